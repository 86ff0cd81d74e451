package io.braid.gateway.internal;

/**
 * A token bucket: holds at most {@code burst} tokens, refills at {@code perSecond} tokens a second
 * of the ticker's time, and gives tokens only while it holds enough. Starts full. Readings of the
 * ticker are compared by difference, so the bucket works across the ticker's wrap; a reading
 * earlier than the last one refills nothing. Not thread-safe: used under its {@link CallRateLimit}'s lock.
 */
final class TokenBucket {
    private static final double NANOS_PER_SECOND = 1e9;

    private final double perSecond;
    private final double burst;
    private double tokens;
    private long lastNanos;

    TokenBucket(long perSecond, long burst, long nowNanos) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.tokens = burst;
        this.lastNanos = nowNanos;
    }

    /** Takes {@code amount} tokens if the bucket holds them at {@code nowNanos}; takes nothing otherwise. */
    boolean tryTake(long amount, long nowNanos) {
        if (!holds(amount, nowNanos)) {
            return false;
        }
        tokens -= amount;
        return true;
    }

    /** Refills up to {@code nowNanos} and tells whether {@code amount} tokens are there (takes none). */
    boolean holds(long amount, long nowNanos) {
        long elapsed = nowNanos - lastNanos;
        if (elapsed > 0) {
            tokens = Math.min(burst, tokens + elapsed / NANOS_PER_SECOND * perSecond);
            lastNanos = nowNanos;
        }
        return tokens >= amount;
    }
}
