package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Ticker;
import io.braid.monitor.internal.Monitoring;
import io.braid.testkit.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link Monitoring.Builder} hands over: settings read once at build(), and the time and
 * threads it is lent. The sampling interval is a minute, so after its first run the sampler task
 * waits in the lent scheduler's queue where the test can see it.
 */
class MonitoringBuilderTest {
    private static final Duration A_MINUTE = Duration.ofMinutes(1);

    private final TestCluster cluster = new TestCluster();
    private final ScheduledThreadPoolExecutor lent = scheduler("lent-sampler");
    private final ScheduledThreadPoolExecutor other = scheduler("other-sampler");
    private final SimpleMeterRegistry first = new SimpleMeterRegistry();
    private final SimpleMeterRegistry second = new SimpleMeterRegistry();

    private static ScheduledThreadPoolExecutor scheduler(String name) {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1,
                task -> Thread.ofPlatform().name(name).daemon().unstarted(task));
        scheduler.setRemoveOnCancelPolicy(true); // a cancelled task leaves the queue at once
        return scheduler;
    }

    @AfterEach
    void close() {
        cluster.close();
        lent.shutdownNow();
        other.shutdownNow();
        first.close();
        second.close();
    }

    /** Settings are read once: a guard (it passed before the copy was documented). */
    @Test
    void aBuilderChangedAfterBuildChangesNothingBuilt() {
        AtomicInteger firstTicker = new AtomicInteger();
        AtomicInteger laterTicker = new AtomicInteger();
        Monitoring.Builder builder = Monitoring.builder("watch", "watch-1").meterRegistry(first).scheduler(lent)
                .sampling(A_MINUTE, 5).ticker(counting(firstTicker));
        Monitoring monitoring = builder.build();

        builder.meterRegistry(second).scheduler(other).ticker(counting(laterTicker))
                .http(MonitorOptions.port(0)).sampling(Duration.ofMillis(10), 1);
        try (monitoring) {
            monitoring.start(cluster.start(TestCluster.Spec.of("logic", "logic-1")), null);

            Await.until(Duration.ofSeconds(5), "the first sample, on the scheduler set before build()",
                    () -> firstTicker.get() > 0 && lent.getQueue().size() == 1);
            assertThat(monitoring.meterRegistry()).isSameAs(first);
            assertThat(first.getMeters()).as("the gauges went to the registry set before build()").isNotEmpty();
            assertThat(second.getMeters()).isEmpty();
            assertThat(monitoring.httpAddress()).as("no HTTP server: it was asked for after build()").isEmpty();
            assertThat(other.getQueue()).isEmpty();
            assertThat(other.getCompletedTaskCount()).isZero();
            assertThat(laterTicker.get()).isZero();
        }
    }

    /**
     * The HTTP server runs on what the node lends (MonitorResources): without it the monitor refuses
     * to start rather than make event loops or an RPC client of its own; with it, it makes none.
     */
    @Test
    void anHttpMonitorServesOnWhatTheNodeLendsAndMakesNoEventLoopsOfItsOwn() {
        try (Monitoring alone = Monitoring.builder("watch", "watch-3").scheduler(lent)
                .http(MonitorOptions.port(0)).build()) {
            assertThatThrownBy(() -> alone.start(cluster.start(TestCluster.Spec.of("logic", "logic-1")), null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MonitorResources");
        }

        TestCluster.TestNode served = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                .withHttp(MonitorOptions.port(0)));

        assertThat(served.monitoring.httpAddress()).isPresent();
        assertThat(Thread.getAllStackTraces().keySet()).as("no event loop of the monitor's own")
                .noneMatch(thread -> thread.getName().startsWith("braid-monitor-http"));
    }

    @Test
    void theSamplerRunsOnTheLentSchedulerWhichCloseNeverShutsDown() throws Exception {
        Set<String> tickerReadOn = ConcurrentHashMap.newKeySet();
        Monitoring monitoring = Monitoring.builder("watch", "watch-2").scheduler(lent).sampling(A_MINUTE, 5)
                .ticker(() -> {
                    tickerReadOn.add(Thread.currentThread().getName());
                    return System.nanoTime();
                }).build();
        monitoring.start(cluster.start(TestCluster.Spec.of("logic", "logic-1")), null);

        Await.until(Duration.ofSeconds(5), "a sample taken on the lent scheduler, the next one queued there",
                () -> tickerReadOn.contains("lent-sampler") && lent.getQueue().size() == 1);
        assertThat(Thread.getAllStackTraces().keySet()).as("no sampler thread of the monitoring's own")
                .noneMatch(thread -> thread.getName().equals("braid-monitor-watch-2"));
        monitoring.close();

        assertThat(lent.getQueue()).as("close cancelled the sampler task").isEmpty();
        assertThat(lent.isShutdown()).as("a lent scheduler is not the monitoring's to shut down").isFalse();
        assertThat(lent.submit(() -> "still runs").get(5, TimeUnit.SECONDS)).isEqualTo("still runs");
    }

    private static Ticker counting(AtomicInteger reads) {
        return () -> {
            reads.incrementAndGet();
            return System.nanoTime();
        };
    }
}
