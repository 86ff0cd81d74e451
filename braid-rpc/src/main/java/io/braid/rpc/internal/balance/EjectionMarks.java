package io.braid.rpc.internal.balance;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Per-node record of consecutive connect failures, which takes a failing node out of the pickers'
 * choice for a growing while.
 *
 * <p><b>Internal:</b> part of braid-rpc's implementation; public only so that
 * {@code io.braid.rpc.internal} (the client's node picker) can use it. It may change without notice.
 *
 * <p>The cycle of one node:
 * <ol>
 *   <li><b>Healthy.</b> {@link #markFailure} counts consecutive failures; {@link #markSuccess}
 *       sets the count back to zero. The {@code failuresToEject}-th failure in a row ejects the
 *       node for {@code baseBackoff}.</li>
 *   <li><b>Ejected.</b> {@link #isEjected} answers true until the backoff has run out. Failures
 *       reported meanwhile (calls that were already under way) change nothing.</li>
 *   <li><b>On probation</b> once the backoff has run out: {@link #isEjected} answers false again,
 *       so new work reaches the node. A single failure ejects it again, for twice the previous
 *       backoff (base, 2&times;base, 4&times;base, ... never more than {@code maxBackoff}); a
 *       success makes it healthy and forgets all of its history.</li>
 * </ol>
 * A success reported at any time, even while ejected, makes the node healthy. {@link #forget}
 * drops a node that left discovery.
 *
 * <p><b>Time</b> comes from the injected {@code nanoClock} (in production the client builder's
 * {@code Ticker}, by default {@code System::nanoTime}; in tests a fake one) and is compared as
 * {@link System#nanoTime()} values are: by difference, so wrap-around is harmless.
 *
 * <p><b>Threading.</b> Safe for concurrent use. Each node's record is immutable and replaced
 * atomically per node id; {@link #isEjected} takes no lock and allocates nothing. While no node
 * is ejected or on probation it is a single volatile read; otherwise a map lookup, plus a clock
 * read for a node that has been ejected since its last success.
 */
public final class EjectionMarks {

    /** Beyond this many consecutive ejections the count stops growing (the backoff is capped). */
    private static final int MAX_COUNTED_EJECTIONS = Long.SIZE;

    private final int failuresToEject;
    private final long baseBackoffNanos;
    private final long maxBackoffNanos;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, Mark> marks = new ConcurrentHashMap<>();
    /**
     * How many marks have {@code ejections > 0}. Raised inside the map's atomic update that
     * creates such a mark and lowered after removing one, so when it reads zero no node is ejected
     * (or the read is simply ordered before a concurrent ejection).
     */
    private final AtomicInteger ejectedOrOnProbation = new AtomicInteger();

    /**
     * @param failuresToEject how many consecutive failures eject a healthy node; at least 1
     * @param baseBackoff     how long the first ejection lasts; positive
     * @param maxBackoff      the longest an ejection may last; at least {@code baseBackoff}, and no
     *                        more than {@link Long#MAX_VALUE} nanoseconds (about 292 years)
     * @param nanoClock       a monotonic clock in nanoseconds, like {@code System::nanoTime}
     * @throws IllegalArgumentException if a value is out of its range
     * @throws NullPointerException     if an argument is null
     */
    public EjectionMarks(int failuresToEject, Duration baseBackoff, Duration maxBackoff,
                         LongSupplier nanoClock) {
        Objects.requireNonNull(baseBackoff, "baseBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        if (failuresToEject < 1) {
            throw new IllegalArgumentException("failuresToEject must be at least 1, was " + failuresToEject);
        }
        if (baseBackoff.isNegative() || baseBackoff.isZero()) {
            throw new IllegalArgumentException("baseBackoff must be positive, was " + baseBackoff);
        }
        if (maxBackoff.compareTo(baseBackoff) < 0) {
            throw new IllegalArgumentException(
                    "maxBackoff must be at least baseBackoff (" + baseBackoff + "), was " + maxBackoff);
        }
        if (maxBackoff.compareTo(Duration.ofNanos(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(
                    "maxBackoff must be at most " + Duration.ofNanos(Long.MAX_VALUE) + ", was " + maxBackoff);
        }
        this.failuresToEject = failuresToEject;
        this.baseBackoffNanos = baseBackoff.toNanos();
        this.maxBackoffNanos = maxBackoff.toNanos();
    }

    /**
     * Records a failed attempt to reach the node: counts towards its ejection, ejects it, or, on
     * probation, ejects it again for a doubled backoff. No effect while it is ejected.
     */
    public void markFailure(String nodeId) {
        Objects.requireNonNull(nodeId, "nodeId");
        long now = nanoClock.getAsLong();
        marks.compute(nodeId, (id, mark) -> afterFailure(mark, now));
    }

    /** Records a successful call: the node is healthy again and its history is forgotten. */
    public void markSuccess(String nodeId) {
        Objects.requireNonNull(nodeId, "nodeId");
        remove(nodeId);
    }

    /**
     * Whether the node is ejected right now, i.e. should not be picked for new work. Cheap: meant to
     * be called on every pick.
     */
    public boolean isEjected(String nodeId) {
        if (ejectedOrOnProbation.get() == 0) {
            return false;
        }
        Mark mark = marks.get(nodeId);
        return mark != null && mark.ejections() > 0 && nanoClock.getAsLong() - mark.ejectedUntil() < 0;
    }

    /** Drops everything known about a node, for example because it left discovery. */
    public void forget(String nodeId) {
        Objects.requireNonNull(nodeId, "nodeId");
        remove(nodeId);
    }

    /** How many nodes have a record (failures, or an ejection not yet cleared by a success). */
    int trackedNodes() {
        return marks.size();
    }

    /** How many nodes are ejected or on probation; for tests. */
    int ejectedOrOnProbation() {
        return ejectedOrOnProbation.get();
    }

    /** The same, counted from the marks themselves; for tests. */
    int recountEjectedOrOnProbation() {
        return (int) marks.values().stream().filter(mark -> mark.ejections() > 0).count();
    }

    /** Runs inside the map's atomic update for the node. */
    private Mark afterFailure(Mark mark, long now) {
        if (mark == null || mark.ejections() == 0) {
            int failures = mark == null ? 1 : mark.failures() + 1;
            if (failures < failuresToEject) {
                return new Mark(failures, 0, 0);
            }
            ejectedOrOnProbation.incrementAndGet();
            return ejected(1, now);
        }
        if (now - mark.ejectedUntil() < 0) {
            return mark;
        }
        return ejected(Math.min(mark.ejections() + 1, MAX_COUNTED_EJECTIONS), now);
    }

    private void remove(String nodeId) {
        Mark removed = marks.remove(nodeId);
        if (removed != null && removed.ejections() > 0) {
            ejectedOrOnProbation.decrementAndGet();
        }
    }

    private Mark ejected(int ejections, long now) {
        return new Mark(0, ejections, now + backoffNanos(ejections));
    }

    /** {@code baseBackoff * 2^(ejections - 1)}, capped at {@code maxBackoff}, without overflow. */
    private long backoffNanos(int ejections) {
        int doublings = ejections - 1;
        // The highest set bit is at 63 - leadingZeros; it may move up to bit 62, never into the sign.
        if (doublings >= Long.numberOfLeadingZeros(baseBackoffNanos)) {
            return maxBackoffNanos;
        }
        return Math.min(baseBackoffNanos << doublings, maxBackoffNanos);
    }

    /**
     * One node's state; immutable.
     *
     * @param failures     consecutive failures while healthy
     * @param ejections    consecutive ejections since the last success; zero while healthy
     * @param ejectedUntil clock value at which the latest ejection ends; meaningful if ejections > 0
     */
    private record Mark(int failures, int ejections, long ejectedUntil) {
    }
}
