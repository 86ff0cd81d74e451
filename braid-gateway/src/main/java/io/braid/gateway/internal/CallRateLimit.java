package io.braid.gateway.internal;

import io.braid.api.Ticker;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The rate limit of one player on this gateway, shared by all its connections here (see {@link
 * PlayerRateLimits}): a call passes when both its bucket of calls and its bucket of payload bytes
 * hold enough (it then takes from both); otherwise it is refused and takes nothing. Refusals are
 * counted, across the player's connections, from the first one after a quiet second (a full second
 * of the ticker without a refusal); the refusal after {@code maxRefusals} of them is {@link
 * Verdict#CLOSE}: the player keeps flooding. So a player closed for flooding who comes back at once
 * (a resume, a new login) is closed again at its first refusal, until it has been quiet a second.
 * Thread-safe: one lock per limit, as the connections of one player may run on different event
 * loops (an old one not yet closed and a new one).
 */
final class CallRateLimit {
    /** Refusals further apart than this start the count afresh. */
    static final long QUIET_NANOS = 1_000_000_000L;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** What to do with a call. */
    enum Verdict { PASS, REFUSE, CLOSE }

    /**
     * A verdict and, for a refusal, the limit the call broke, e.g. {@code "rate limit: 50 calls/s (burst 100)"}
     * (empty for {@link Verdict#PASS}).
     */
    record Admission(Verdict verdict, String limit) {
    }

    private static final Admission PASSED = new Admission(Verdict.PASS, "");

    private final Ticker ticker;
    private final int maxRefusals;
    private final Admission callsRefused;
    private final Admission callsClose;
    private final Admission bytesRefused;
    private final Admission bytesClose;
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private final TokenBucket calls;
    private final TokenBucket bytes;
    private int refusals;
    private long lastRefusalNanos;

    CallRateLimit(RateLimits limits, Ticker ticker) {
        this.ticker = ticker;
        this.maxRefusals = limits.maxRefusals();
        String callsLimit = "rate limit: " + limits.callsPerSecond() + " calls/s (burst " + limits.callBurst() + ")";
        String bytesLimit = "rate limit: " + limits.bytesPerSecond() + " bytes/s (burst " + limits.byteBurst() + ")";
        this.callsRefused = new Admission(Verdict.REFUSE, callsLimit);
        this.callsClose = new Admission(Verdict.CLOSE, callsLimit);
        this.bytesRefused = new Admission(Verdict.REFUSE, bytesLimit);
        this.bytesClose = new Admission(Verdict.CLOSE, bytesLimit);
        long now = ticker.read();
        this.calls = new TokenBucket(limits.callsPerSecond(), limits.callBurst(), now);
        this.bytes = new TokenBucket(limits.bytesPerSecond(), limits.byteBurst(), now);
    }

    /**
     * The ticker time after which a limit nobody used is the same as a fresh one: its emptiest
     * possible buckets have refilled to their bursts and its refusal count has had its quiet second.
     */
    static long freshAfterNanos(RateLimits limits) {
        long callsRefill = Math.ceilDiv(limits.callBurst() * NANOS_PER_SECOND, limits.callsPerSecond());
        long bytesRefill = Math.ceilDiv(limits.byteBurst() * NANOS_PER_SECOND, limits.bytesPerSecond());
        return Math.max(QUIET_NANOS, Math.max(callsRefill, bytesRefill));
    }

    /** Admits or refuses a call of {@code payloadBytes}. */
    Admission admit(int payloadBytes) {
        lock.lock();
        try {
            long now = ticker.read();
            boolean callsLeft = calls.holds(1, now);
            boolean bytesLeft = bytes.holds(payloadBytes, now);
            if (callsLeft && bytesLeft) {
                calls.tryTake(1, now);
                bytes.tryTake(payloadBytes, now);
                return PASSED;
            }
            if (refusals > 0 && now - lastRefusalNanos >= QUIET_NANOS) {
                refusals = 0;
            }
            lastRefusalNanos = now;
            if (refusals < Integer.MAX_VALUE) { // a player refused for ever never wraps back to REFUSE
                refusals++;
            }
            boolean close = refusals > maxRefusals;
            if (!callsLeft) {
                return close ? callsClose : callsRefused;
            }
            return close ? bytesClose : bytesRefused;
        } finally {
            lock.unlock();
        }
    }
}
