package io.braid.gateway.internal;

import io.braid.api.Ticker;

/**
 * The rate limit of one connection's session: a call passes when both its bucket of calls and its
 * bucket of payload bytes hold enough (it then takes from both); otherwise it is refused and
 * takes nothing. Refusals are counted from the first one after a quiet second (a full second of
 * the ticker without a refusal); the refusal after {@code maxRefusals} of them is {@link
 * Verdict#CLOSE}: the player keeps flooding. Not thread-safe: used on the connection's event loop.
 */
final class CallRateLimit {
    private static final long QUIET_NANOS = 1_000_000_000L;

    /** What to do with a call. */
    enum Verdict { PASS, REFUSE, CLOSE }

    private final RateLimits limits;
    private final Ticker ticker;
    private final TokenBucket calls;
    private final TokenBucket bytes;
    private int refusals;
    private long lastRefusalNanos;
    private String lastLimit = "";

    CallRateLimit(RateLimits limits, Ticker ticker) {
        this.limits = limits;
        this.ticker = ticker;
        long now = ticker.read();
        this.calls = new TokenBucket(limits.callsPerSecond(), limits.callBurst(), now);
        this.bytes = new TokenBucket(limits.bytesPerSecond(), limits.byteBurst(), now);
    }

    /** Admits or refuses a call of {@code payloadBytes}; after a refusal, {@link #lastLimit()} names the limit. */
    Verdict admit(int payloadBytes) {
        long now = ticker.read();
        boolean callsLeft = calls.holds(1, now);
        boolean bytesLeft = bytes.holds(payloadBytes, now);
        if (callsLeft && bytesLeft) {
            calls.tryTake(1, now);
            bytes.tryTake(payloadBytes, now);
            return Verdict.PASS;
        }
        lastLimit = !callsLeft
                ? "rate limit: " + limits.callsPerSecond() + " calls/s (burst " + limits.callBurst() + ")"
                : "rate limit: " + limits.bytesPerSecond() + " bytes/s (burst " + limits.byteBurst() + ")";
        if (refusals > 0 && now - lastRefusalNanos >= QUIET_NANOS) {
            refusals = 0;
        }
        lastRefusalNanos = now;
        return ++refusals > limits.maxRefusals() ? Verdict.CLOSE : Verdict.REFUSE;
    }

    /** The limit the last refused call broke, e.g. {@code "rate limit: 50 calls/s (burst 100)"}. */
    String lastLimit() {
        return lastLimit;
    }
}
