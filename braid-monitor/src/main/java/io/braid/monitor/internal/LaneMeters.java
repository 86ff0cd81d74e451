package io.braid.monitor.internal;

import io.braid.api.internal.LaneListener;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Records what a server's {@link LaneListener} hears as the lane meters {@link BraidMeters} names,
 * tagged with the node's service, and feeds the node's {@link HotPlayers} with each call's run.
 * The meters exist from the start, at 0. Nothing here allocates per call (a hot player new to its
 * window makes its counter). Thread-safe.
 *
 * <p>Depth is a distribution summary sampled at each entry (the pieces ahead of the one entering),
 * not a gauge: a gauge read at scrape time shows an instant, and lanes fill and empty within
 * milliseconds, so a burst between two scrapes would never show; the summary's max and p99 over
 * the last minute show what the calls met.
 */
final class LaneMeters implements LaneListener {
    private final DistributionSummary depth;
    private final Timer waited;
    private final Timer ran;
    /** Null when players are not named (no hot players kept). */
    private final HotPlayers hot;

    LaneMeters(MeterRegistry registry, String service, HotPlayers hot) {
        this.hot = hot;
        depth = DistributionSummary.builder(BraidMeters.LANE_DEPTH)
                .description("Pieces of work ahead of each one entering a token lane (0: it started at once)")
                .tag(BraidMeters.TAG_SERVICE, service)
                .publishPercentiles(0.99)
                .distributionStatisticExpiry(Duration.ofMinutes(1))
                .distributionStatisticBufferLength(3)
                .register(registry);
        waited = timer(registry, BraidMeters.LANE_WAIT,
                "Time from entering a token lane to starting to run (the queue time)", service);
        ran = timer(registry, BraidMeters.LANE_RUN, "Time a turn in a token lane ran", service);
    }

    /** The same percentile setup as the RPC server timers. */
    private static Timer timer(MeterRegistry registry, String name, String description, String service) {
        return Timer.builder(name).description(description)
                .tag(BraidMeters.TAG_SERVICE, service)
                .publishPercentiles(0.99)
                .distributionStatisticExpiry(Duration.ofMinutes(1))
                .distributionStatisticBufferLength(3)
                .register(registry);
    }

    @Override
    public void entered(int ahead) {
        depth.record(ahead);
    }

    @Override
    public void turnEnded(String token, long waitNanos, long runNanos, boolean call) {
        waited.record(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        ran.record(Math.max(0, runNanos), TimeUnit.NANOSECONDS);
        if (call && hot != null) {
            hot.record(token, runNanos);
        }
    }

    @Override
    public void leftUnrun(long waitNanos) {
        waited.record(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
    }
}
