package io.braid.elector.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Elector;
import io.braid.api.Role;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The contract on one real redis-server, plus failures: a cut-off leader, a frozen leader process, Redis lost. */
class RedisElectorTest extends ElectorContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration FAST_LEASE = Duration.ofMillis(900);

    /**
     * The contract's electors run on {@link #FAST_LEASE}: the first leader of a new election waits
     * out one whole lease before it leads, 0.9 s here instead of the default 3 s in every test.
     */
    @Override
    protected Elector newElector(String service, String nodeId) {
        RedisConnector connector = closeAfterElectors(RedisConnector.connect(redis.server().uri()));
        return RedisElector.builder(connector).service(service).nodeId(nodeId).lease(FAST_LEASE).build();
    }

    /** An elector with the default lease (3 s, renewal every 1 s). */
    private Elector defaultElector(String service, String nodeId) {
        RedisConnector connector = closeAfterElectors(RedisConnector.connect(redis.server().uri()));
        return closeAfterElectors(RedisElector.builder(connector).service(service).nodeId(nodeId).build());
    }

    private Elector fastElector(String service, String nodeId) {
        RedisConnector connector = closeAfterElectors(RedisConnector.connect(redis.server().uri()));
        return closeAfterElectors(RedisElector.builder(connector).service(service).nodeId(nodeId).lease(FAST_LEASE).build());
    }

    @Override
    protected Duration handoverBound() {
        return Duration.ofSeconds(1).plusMillis(300); // a renewal interval (lease / 3) and a second of slack
    }

    @Test
    void aLeaderCutOffFromRedisStepsDownBeforeAnotherLeads() throws Exception {
        try (LeadershipHistory history = new LeadershipHistory()) {
            Elector a = fastElector("logic", "a");
            await("a leads", Duration.ofSeconds(3), a::isLeader);
            Elector b = fastElector("logic", "b");
            history.watch("a", a);
            history.watch("b", b);
            await("b follows", Duration.ofSeconds(3), () -> b.role() == Role.FOLLOWER);

            long start = System.nanoTime();
            ((RedisElector) a).partitionForTest();

            await("b leads", Duration.ofSeconds(3), b::isLeader);
            System.out.printf("failover after a cut-off leader: %.1f ms (lease %s)%n", (System.nanoTime() - start) / 1e6,
                    FAST_LEASE);
            assertThat(a.role()).isEqualTo(Role.WAIT);
            await("the history samples b leading", Duration.ofSeconds(1),
                    () -> history.intervals().stream().anyMatch(interval -> interval.node().equals("b")));
            assertThat(history.intervals()).extracting(LeadershipHistory.Interval::node).containsExactly("a", "b");
            assertThat(history.violations()).isEmpty();
        }
    }

    /** Starts an {@link ElectorProcess}; its output lines collect in {@code lines}. */
    private static Process startChild(String service, Duration lease, List<String> lines) throws Exception {
        Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), ElectorProcess.class.getName(),
                redis.server().uri(), service, "child", Long.toString(lease.toMillis()))
                .redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (java.io.IOException ignored) {
                // the child died
            }
        });
        return child;
    }

    @Test
    void aKilledLeaderProcessIsReplacedWithinItsLeaseAndOneRenewal() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Process child = startChild("killed", Duration.ofSeconds(3), lines);
        try {
            // A child JVM starts slowly on a loaded machine; what is measured starts at the kill.
            await("the child leads", Duration.ofSeconds(30), () -> lines.stream().anyMatch(l -> l.startsWith("L ")));
            Elector parent = defaultElector("killed", "parent"); // default lease 3 s, renewal every 1 s
            await("parent follows", Duration.ofSeconds(3), () -> parent.role() == Role.FOLLOWER);
            long childEpoch = parent.epoch();

            long killedAt = System.nanoTime();
            child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);

            await("parent takes over", Duration.ofSeconds(5), parent::isLeader);
            Duration failover = Duration.ofNanos(System.nanoTime() - killedAt);
            System.out.printf("failover after a killed (kill -9) leader: %d ms (lease 3 s, renewal 1 s)%n",
                    failover.toMillis());
            assertThat(failover).isLessThanOrEqualTo(Duration.ofMillis(4_500));
            assertThat(parent.epoch()).isGreaterThan(childEpoch);
        } finally {
            child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFrozenLeaderProcessDoesNotLeadWhenItWakesUp() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Process child = startChild("frozen", FAST_LEASE, lines);
        try (LeadershipHistory history = new LeadershipHistory()) {
            await("the child leads", Duration.ofSeconds(30), () -> lines.stream().anyMatch(l -> l.startsWith("L ")));
            Elector parent = fastElector("frozen", "parent");
            history.watch("parent", parent);
            await("parent follows", Duration.ofSeconds(3), () -> parent.role() == Role.FOLLOWER);

            signal(child, "STOP");
            long stoppedAt = System.nanoTime();
            await("parent takes over from the frozen child", Duration.ofSeconds(5), parent::isLeader);
            System.out.printf("failover after a frozen leader: %.1f ms (lease %s)%n",
                    (System.nanoTime() - stoppedAt) / 1e6, FAST_LEASE);
            signal(child, "CONT");
            await("the child notices it no longer leads", Duration.ofSeconds(5),
                    () -> lines.stream().anyMatch(l -> l.startsWith("R ") && !l.startsWith("R LEADER")));

            // Everything the child believed, as intervals, joins the parent's history for the check.
            long childEpoch = -1;
            long from = 0;
            long to = 0;
            for (String line : lines) {
                if (line.startsWith("L ")) {
                    String[] parts = line.split(" ");
                    long epoch = Long.parseLong(parts[1]);
                    long at = Long.parseLong(parts[2]);
                    if (epoch != childEpoch) {
                        if (childEpoch >= 0) {
                            history.add(new LeadershipHistory.Interval("child", childEpoch, from, to));
                        }
                        childEpoch = epoch;
                        from = at;
                    }
                    to = at;
                }
            }
            history.add(new LeadershipHistory.Interval("child", childEpoch, from, to));
            assertThat(history.violations()).isEmpty();
            assertThat(parent.epoch()).isGreaterThan(childEpoch);
        } finally {
            child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void losingRedisStepsTheLeaderDownAndEpochsStillGrowAfterItComesBackEmpty() throws Exception {
        Elector a = fastElector("logic", "a");
        await("a leads", Duration.ofSeconds(3), a::isLeader);
        long before = a.epoch();

        redis.server().kill();
        await("a steps down within its lease", FAST_LEASE.plusMillis(300), () -> a.role() == Role.WAIT);
        redis.server().restartEmpty();

        await("a leads again", Duration.ofSeconds(5), a::isLeader);
        assertThat(a.epoch()).isGreaterThan(before);
    }

    @Test
    void settingsThatWouldMakeAHealthyLeaderFlapAreRefusedNamingTheRule() {
        RedisConnector connector = closeAfterElectors(RedisConnector.connect(redis.server().uri()));
        Duration lease = Duration.ofSeconds(3);

        // Renewing at half the lease: after the margin and a replica's WAIT, one late reply ends the lease.
        assertThatThrownBy(() -> RedisElector.builder(connector).service("flap").nodeId("a").lease(lease)
                .renewInterval(Duration.ofMillis(1500)).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("2 × renewInterval + safetyMargin + replicaTimeout must be at most the lease")
                .hasMessageContaining("renewInterval PT1.5S, safetyMargin PT0.3S, replicaTimeout PT0.3S add up to PT3.6S");
        assertThatThrownBy(() -> RedisElector.builder(connector).service("flap").nodeId("a").lease(lease)
                .renewInterval(Duration.ofMillis(1250)).safetyMargin(Duration.ofMillis(600)).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("must be at most the lease");
        // Without replicas to confirm, WAIT's timeout is no part of the rule.
        assertThatThrownBy(() -> RedisElector.builder(connector).service("flap").nodeId("a").lease(lease)
                .confirmReplicas(0).renewInterval(Duration.ofMillis(1400)).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("2 × renewInterval + safetyMargin must be at most the lease");
        try (RedisElector atTheLimit = RedisElector.builder(connector).service("flap").nodeId("a").lease(lease)
                .confirmReplicas(0).renewInterval(Duration.ofMillis(1350)).build()) {
            assertThat(atTheLimit.role()).isNotEqualTo(Role.LEADER);
        }
        try (RedisElector defaults = RedisElector.builder(connector).service("flap").nodeId("b").lease(lease).build()) {
            assertThat(defaults.service()).isEqualTo("flap");
        }
    }

    private static void signal(Process process, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
        assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }
}
