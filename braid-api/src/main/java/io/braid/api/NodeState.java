package io.braid.api;

/** Whether a node takes new work. */
public enum NodeState {
    /** Takes new links and stateless calls. */
    ACTIVE,
    /**
     * Takes no new links and no stateless calls; keeps serving the tokens already linked to it
     * until they unlink or the drain times out.
     */
    DRAINING
}
