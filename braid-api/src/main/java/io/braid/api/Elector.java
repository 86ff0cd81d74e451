package io.braid.api;

import java.util.function.Consumer;

/**
 * One leader per service, on a lease. The leader's {@link #epoch()} grows with every new leader;
 * a chore guarded by the epoch (fencing) cannot be done twice by an old and a new leader.
 *
 * <p>{@link #role()} is computed when asked: a leader whose lease may have run out (its renewal was
 * not confirmed in time, or the process was frozen) answers WAIT at once, before any timer runs.
 * Listeners hear each real change of role once, in order, on the elector's thread; they must not
 * block. Thread-safe. {@link #close()} gives up leadership at once and is idempotent.
 */
public interface Elector extends AutoCloseable {
    Role role();

    default boolean isLeader() {
        return role() == Role.LEADER;
    }

    /** The fencing epoch of the current leadership as this node last saw it; 0 before any. */
    long epoch();

    /** The id of the leader as this node last saw it; empty while unknown. */
    java.util.Optional<String> leader();

    /** The service this elector takes part in. */
    String service();

    /**
     * Calls {@code listener} on each real change of role (edge-triggered), never twice in a row for
     * one role. A listener added while the role is LEADER or FOLLOWER hears that role at once.
     */
    Subscription onChange(Consumer<Role> listener);

    @Override
    void close();
}
