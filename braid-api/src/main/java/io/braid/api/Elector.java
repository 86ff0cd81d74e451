package io.braid.api;

import java.util.function.Consumer;

/**
 * One leader per service, on a lease. The leader's {@link #epoch()} grows with every new leader;
 * a chore guarded by the epoch (fencing) cannot be done twice by an old and a new leader.
 * Thread-safe. {@link #close()} gives up leadership at once and is idempotent.
 */
public interface Elector extends AutoCloseable {
    Role role();

    default boolean isLeader() {
        return role() == Role.LEADER;
    }

    /** The fencing epoch of the current leadership as this node last saw it; 0 before any. */
    long epoch();

    /** Calls {@code listener} on each real change of role (edge-triggered), never twice for one role. */
    Subscription onChange(Consumer<Role> listener);

    @Override
    void close();
}
