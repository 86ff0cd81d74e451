package io.braid.gateway.internal;

import io.braid.api.Ticker;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * The rate limits of the players on one gateway: one {@link CallRateLimit} per player token, shared
 * by every connection of that token here over time (the first login's, a resume's, a later login's,
 * a kicked duplicate's), so reconnecting gives a flooding player nothing. A connection {@link
 * #acquire acquires} its token's limit when its session goes live and {@link #release releases} it
 * when the connection closes. A limit no connection holds is kept for {@link #lingerNanos()} of the
 * ticker's time after the last release, then dropped: by then it is the same as a fresh one (its
 * buckets have refilled to their bursts and its refusal count has had its quiet second), so dropping
 * it gives the player nothing it could not get by waiting, and a player with no connection here (its
 * session DETACHED, or gone) costs nothing once its linger has passed.
 *
 * <p>Each gateway has its own: a player resuming on another gateway starts there with full buckets.
 *
 * <p>Thread-safe, without a lock over all players: the holders of a limit are counted in the map's
 * atomic update of that token's entry, and each limit locks itself while it admits a call. The drop is
 * a task on the {@link Scheduler} (the gateway's event loops) that rechecks under the same update, so a
 * connection acquiring the limit meanwhile keeps it. {@link #close()} is idempotent.
 */
final class PlayerRateLimits implements AutoCloseable {
    /** Runs a task once after a delay. The gateway's event loops; tests run the tasks by hand. */
    @FunctionalInterface
    interface Scheduler {
        /** Runs {@code task} after {@code delayNanos}; may throw {@link RejectedExecutionException} when shut down. */
        void schedule(Runnable task, long delayNanos);
    }

    /** A token's limit and who holds it; its fields change only inside the map's update of its key. */
    private static final class Held {
        final CallRateLimit limit;
        int connections;
        long releasedNanos;
        boolean dropScheduled;

        Held(CallRateLimit limit) {
            this.limit = limit;
        }
    }

    private final RateLimits limits;
    private final Ticker ticker;
    private final Scheduler scheduler;
    private final long lingerNanos;
    private final ConcurrentHashMap<String, Held> byToken = new ConcurrentHashMap<>();
    private volatile boolean closed;

    PlayerRateLimits(RateLimits limits, Ticker ticker, Scheduler scheduler) {
        this.limits = limits;
        this.ticker = ticker;
        this.scheduler = scheduler;
        this.lingerNanos = CallRateLimit.freshAfterNanos(limits);
    }

    /**
     * The limit of {@code token}, held by the caller until its {@link #release}: the one the token's
     * other connections hold, or that a recent one left, else a fresh one with full buckets.
     */
    CallRateLimit acquire(String token) {
        return byToken.compute(token, (key, held) -> {
            Held entry = held != null ? held : new Held(new CallRateLimit(limits, ticker));
            entry.connections++;
            return entry;
        }).limit;
    }

    /** Gives back one hold of {@code token}'s limit (one per {@link #acquire}); the last one starts its linger. */
    void release(String token) {
        boolean[] schedule = {false};
        byToken.computeIfPresent(token, (key, held) -> {
            if (--held.connections > 0) {
                return held;
            }
            if (closed) {
                return null;
            }
            held.releasedNanos = ticker.read();
            if (!held.dropScheduled) {
                held.dropScheduled = true;
                schedule[0] = true;
            }
            return held;
        });
        if (schedule[0]) {
            scheduleDrop(token, lingerNanos);
        }
    }

    /** How long (ticker time) a limit nobody holds is kept: the longer bucket's refill time, at least a second. */
    long lingerNanos() {
        return lingerNanos;
    }

    /** The players whose limits are kept now (held, or in their linger). */
    int size() {
        return byToken.size();
    }

    private void scheduleDrop(String token, long delayNanos) {
        if (closed) {
            return;
        }
        try {
            scheduler.schedule(() -> dropIfIdle(token), delayNanos);
        } catch (RejectedExecutionException e) {
            // The event loops are stopping with the gateway: its limits go with it.
            byToken.computeIfPresent(token, (key, held) -> {
                held.dropScheduled = false;
                return held.connections > 0 ? held : null;
            });
        }
    }

    /**
     * Drops {@code token}'s limit if no connection holds it and its linger has passed on the ticker;
     * if its linger has not passed yet, looks again when it will have; if it is held again, leaves
     * it (the next release schedules anew).
     */
    private void dropIfIdle(String token) {
        long[] waitNanos = {0};
        byToken.computeIfPresent(token, (key, held) -> {
            if (closed) {
                return null;
            }
            if (held.connections > 0) {
                held.dropScheduled = false;
                return held;
            }
            long idle = Math.max(0, ticker.read() - held.releasedNanos);
            if (idle >= lingerNanos) {
                return null;
            }
            waitNanos[0] = lingerNanos - idle;
            return held;
        });
        if (waitNanos[0] > 0) {
            scheduleDrop(token, waitNanos[0]);
        }
    }

    /** Forgets every limit and schedules no more drops; connections still open keep the limit they hold. */
    @Override
    public void close() {
        closed = true;
        byToken.clear();
    }
}
