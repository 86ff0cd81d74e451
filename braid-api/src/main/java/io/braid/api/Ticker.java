package io.braid.api;

/**
 * A monotonic clock in nanoseconds, the time source of every timing policy in braid (deadlines,
 * heartbeats and leases, ejection, the near cache's trust, redelivery, drain). Production code uses
 * {@link #system()}; tests pass a ticker they move by hand, so a policy is checked by moving time
 * rather than by waiting for it. Only differences between two readings mean anything (like
 * {@link System#nanoTime()}, a reading may be negative and may wrap). Implementations must be
 * thread-safe and quick: they are read on every call.
 */
@FunctionalInterface
public interface Ticker {
    /** Nanoseconds since some fixed but arbitrary origin. */
    long read();

    /** The JVM's monotonic clock, {@link System#nanoTime()}. */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }
}

/** The one instance behind {@link Ticker#system()}. */
enum SystemTicker implements Ticker {
    INSTANCE;

    @Override
    public long read() {
        return System.nanoTime();
    }
}
