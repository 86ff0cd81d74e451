package io.braid.api;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An absolute point in time by which a call must complete, on a monotonic {@link Ticker}
 * ({@link Ticker#system()}, that is {@link System#nanoTime()}, unless one is given). A timeout
 * becomes a deadline once, at the entry point, and the deadline then flows through handlers into
 * the calls they make, so a chain of calls never outlives the first caller's patience. Immutable
 * and thread-safe.
 *
 * <p>A deadline reads the ticker it was made with; {@link #compareTo} and {@link #min} compare two
 * deadlines as points on one clock, so they mean something only for deadlines made with the same
 * ticker (one node uses one ticker for all of its deadlines).
 */
public final class Deadline implements Comparable<Deadline> {
    private final long deadlineNanos;
    private final Ticker ticker;

    private Deadline(long deadlineNanos, Ticker ticker) {
        this.deadlineNanos = deadlineNanos;
        this.ticker = ticker;
    }

    /** The deadline {@code timeout} from now on the system ticker; the timeout must be positive. */
    public static Deadline after(Duration timeout) {
        return after(timeout, Ticker.system());
    }

    /** The deadline {@code timeout} from now on {@code ticker}; the timeout must be positive. */
    public static Deadline after(Duration timeout, Ticker ticker) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        return afterNanos(saturatedNanos(timeout), ticker);
    }

    /** The deadline {@code nanos} from now on the system ticker (zero or negative: an expired deadline). */
    public static Deadline afterNanos(long nanos) {
        return afterNanos(nanos, Ticker.system());
    }

    /** The deadline {@code nanos} from now on {@code ticker} (zero or negative: an expired deadline). */
    public static Deadline afterNanos(long nanos, Ticker ticker) {
        java.util.Objects.requireNonNull(ticker, "ticker");
        return new Deadline(ticker.read() + nanos, ticker);
    }

    /** Time left, zero or negative once expired. */
    public long remainingNanos() {
        return deadlineNanos - ticker.read();
    }

    /** Time left in whole milliseconds, rounded up, at least 0. */
    public long remainingMillis() {
        long nanos = remainingNanos();
        return nanos <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(nanos) + (nanos % 1_000_000 == 0 ? 0 : 1);
    }

    public Duration remaining() {
        return Duration.ofNanos(Math.max(0, remainingNanos()));
    }

    public boolean isExpired() {
        return remainingNanos() <= 0;
    }

    /** The earlier of the two deadlines; {@code other} may be null. */
    public Deadline min(Deadline other) {
        return other == null || compareTo(other) <= 0 ? this : other;
    }

    @Override
    public int compareTo(Deadline other) {
        return Long.compare(deadlineNanos - other.deadlineNanos, 0);
    }

    @Override
    public String toString() {
        return "Deadline{remaining=" + remaining() + "}";
    }

    static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE / 4;
        }
    }
}
