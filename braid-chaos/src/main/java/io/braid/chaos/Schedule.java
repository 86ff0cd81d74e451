package io.braid.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The faults of a run, drawn from {@code new Random(seed)}: the same seed gives the same kinds,
 * gaps, hold times and victim picks (which node a pick lands on depends on who leads then).
 *
 * <ul>
 *   <li>short: every kind of the run's control plane ({@link FaultKind#SINGLE_REDIS} or
 *   {@link FaultKind#CLUSTER}) once, in an order the seed shuffles;</li>
 *   <li>long: faults drawn at random, with random quiet gaps, until its duration has passed.</li>
 * </ul>
 */
final class Schedule {
    /** One fault to apply: after a quiet gap, of a kind, held for a while, on the pick-th candidate. */
    record Fault(FaultKind kind, Duration gap, Duration hold, int pick) {
    }

    private final Random random;
    private final boolean endless;
    private final List<Fault> fixed;
    private final Timing timing;
    private final List<FaultKind> kinds;
    private int next;

    /** The durations the faults are sized by. */
    record Timing(Duration ttl, Duration lease) {
    }

    private Schedule(long seed, boolean endless, Timing timing, List<FaultKind> kinds) {
        this.random = new Random(seed);
        this.endless = endless;
        this.timing = timing;
        this.kinds = List.copyOf(kinds);
        if (endless) {
            this.fixed = List.of();
        } else {
            List<FaultKind> order = new ArrayList<>(kinds);
            Collections.shuffle(order, random);
            List<Fault> faults = new ArrayList<>();
            for (FaultKind kind : order) {
                faults.add(draw(kind, Duration.ofMillis(1_500)));
            }
            this.fixed = List.copyOf(faults);
        }
    }

    static Schedule shortSchedule(long seed, Timing timing, List<FaultKind> kinds) {
        return new Schedule(seed, false, timing, kinds);
    }

    static Schedule longSchedule(long seed, Timing timing, List<FaultKind> kinds) {
        return new Schedule(seed, true, timing, kinds);
    }

    boolean isLong() {
        return endless;
    }

    /** The next fault, or null when a short schedule is done (a long one never is). */
    Fault next() {
        if (!endless) {
            return next < fixed.size() ? fixed.get(next++) : null;
        }
        return draw(kinds.get(random.nextInt(kinds.size())), Duration.ofMillis(1_000 + random.nextInt(3_000)));
    }

    private Fault draw(FaultKind kind, Duration gap) {
        Duration hold = switch (kind) {
            case STOP_NODE -> timing.ttl().plusSeconds(1);
            case STOP_LEADER -> timing.lease().plusSeconds(1);
            case REDIS_PAUSE -> Duration.ofMillis(1_000 + random.nextInt(2_000));
            case CLIENT_KILL_PUBSUB -> Duration.ofSeconds(2);
            case BLACKHOLE -> timing.ttl().plusMillis(1_000 + random.nextInt(1_000));
            default -> Duration.ZERO;
        };
        return new Fault(kind, gap, hold, random.nextInt(1_000));
    }
}
