package io.braid.api;

/** A node's role in the election of its service. */
public enum Role {
    /** Not yet known: the elector has not heard from the store. */
    WAIT,
    /** Another node leads. */
    FOLLOWER,
    /** This node leads and may do the cluster chores, fenced by {@link Elector#epoch()}. */
    LEADER
}
