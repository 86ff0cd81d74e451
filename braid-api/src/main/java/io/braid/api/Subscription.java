package io.braid.api;

/**
 * A registered listener. {@link #close()} stops further callbacks; it is idempotent and may be
 * called from inside the listener.
 */
@FunctionalInterface
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}
