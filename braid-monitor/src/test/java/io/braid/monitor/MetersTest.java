package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.ChannelOptions;
import io.braid.api.PlayerStates;
import io.braid.api.Role;
import io.braid.api.internal.PlayerListener;
import io.braid.monitor.internal.BraidMeters;
import io.braid.monitor.internal.Monitoring;
import io.braid.testkit.Await;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The meters every module records, in a registry the user hands in, against what the test did. */
class MetersTest {
    private final TestCluster cluster = new TestCluster();
    private final MeterRegistry gatewayMeters = new SimpleMeterRegistry();
    private final MeterRegistry logicMeters = new SimpleMeterRegistry();

    @AfterEach
    void close() {
        cluster.close();
    }

    @Test
    void callsAreTimedOnBothSidesByServiceMethodAndCode() {
        TestCluster.TestNode gateway = cluster.start(new TestCluster.Spec("gateway", "gateway-1", null, null, gatewayMeters));
        cluster.start(new TestCluster.Spec("logic", "logic-1", null, null, logicMeters));
        for (int i = 0; i < 5; i++) {
            gateway.hello("logic", "", "n" + i);
        }
        for (int i = 0; i < 2; i++) {
            gateway.client.invoke("logic", "fail", "", StringValue.of("x"), StringValue.parser())
                    .exceptionally(failure -> null).join();
        }
        gateway.client.invoke("logic", "missing", "", StringValue.of("x"), StringValue.parser())
                .exceptionally(failure -> null).join();

        assertThat(timer(gatewayMeters, BraidMeters.RPC_CLIENT_CALLS, "logic", "hello", "OK").count()).isEqualTo(5);
        assertThat(timer(gatewayMeters, BraidMeters.RPC_CLIENT_CALLS, "logic", "fail", "INTERNAL").count()).isEqualTo(2);
        assertThat(timer(gatewayMeters, BraidMeters.RPC_CLIENT_CALLS, "logic", "missing", "NOT_FOUND").count()).isEqualTo(1);
        Await.until(Duration.ofSeconds(5), "the server timers", () ->
                timer(logicMeters, BraidMeters.RPC_SERVER_CALLS, "logic", "fail", "INTERNAL").count() == 2);
        assertThat(timer(logicMeters, BraidMeters.RPC_SERVER_CALLS, "logic", "hello", "OK").count()).isEqualTo(5);
        // Unknown methods are answered before any interceptor: no server timer per garbage name.
        assertThat(logicMeters.find(BraidMeters.RPC_SERVER_CALLS).tag(BraidMeters.TAG_METHOD, "missing").timer()).isNull();
    }

    @Test
    void linkCacheLookupsArecountedByOutcome() {
        TestCluster.TestNode gateway = cluster.start(new TestCluster.Spec("gateway", "gateway-1", null, null, gatewayMeters));
        cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        gateway.hello("logic", "player-1", "a"); // miss, then link
        gateway.hello("logic", "player-1", "b"); // in-process hit
        gateway.hello("logic", "player-1", "c");
        gateway.linkCache.relink("player-1", gateway.discover.nodes("logic").get(0));
        assertThat(count(gatewayMeters, BraidMeters.LINKCACHE_LOOKUPS, BraidMeters.OUTCOME_MISS)).isEqualTo(1);
        assertThat(count(gatewayMeters, BraidMeters.LINKCACHE_LOOKUPS, BraidMeters.OUTCOME_NEAR_HIT)).isEqualTo(2);
        assertThat(count(gatewayMeters, BraidMeters.LINKCACHE_LOOKUPS, BraidMeters.OUTCOME_RELINK)).isEqualTo(1);
    }

    @Test
    void nearCacheDistrustPeriodsAreCountedByReason() {
        var listener = new io.braid.monitor.internal.MeterListeners(gatewayMeters).linkCache();
        listener.nearCacheDistrusted(io.braid.api.internal.LinkCacheListener.DistrustReason.SILENT);
        listener.nearCacheDistrusted(io.braid.api.internal.LinkCacheListener.DistrustReason.SILENT);
        listener.nearCacheDistrusted(io.braid.api.internal.LinkCacheListener.DistrustReason.DISCONNECTED);

        assertThat(gatewayMeters.find(BraidMeters.LINKCACHE_DISTRUSTED).tag(BraidMeters.TAG_REASON, "silent").counter()
                .count()).isEqualTo(2);
        assertThat(gatewayMeters.find(BraidMeters.LINKCACHE_DISTRUSTED).tag(BraidMeters.TAG_REASON, "disconnected")
                .counter().count()).isEqualTo(1);
    }

    @Test
    void pubsubCountsPublishedDeliveredRedeliveredAndDeadLettered() {
        TestCluster.TestNode gateway = cluster.start(new TestCluster.Spec("gateway", "gateway-1", null, null, gatewayMeters));
        TestCluster.TestNode logic = cluster.start(new TestCluster.Spec("logic", "logic-1", null, null, logicMeters));
        logic.pubsub.topic("t").subscribe("flaky", ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMillis(20))
                .withMaxDeliveries(3)).onMessage(message -> {
                    throw new IllegalStateException("never");
                });
        for (int i = 0; i < 4; i++) {
            gateway.pubsub.topic("t").publish(("m" + i).getBytes(StandardCharsets.UTF_8)).join();
        }
        assertThat(gatewayMeters.get(BraidMeters.PUBSUB_PUBLISHED).tag(BraidMeters.TAG_TOPIC, "t").counter().count())
                .isEqualTo(4);
        Await.until(Duration.ofSeconds(10), "every message in the dead letters", () ->
                logicMeters.find(BraidMeters.PUBSUB_DEAD_LETTERED).counter() != null
                        && logicMeters.get(BraidMeters.PUBSUB_DEAD_LETTERED).counter().count() == 4);
        assertThat(logicMeters.get(BraidMeters.PUBSUB_DELIVERED).tags(BraidMeters.TAG_TOPIC, "t", BraidMeters.TAG_CHANNEL,
                "flaky").counter().count()).isEqualTo(4);
        assertThat(logicMeters.get(BraidMeters.PUBSUB_REDELIVERED).tags(BraidMeters.TAG_TOPIC, "t", BraidMeters.TAG_CHANNEL,
                "flaky").counter().count()).isEqualTo(8);
        Await.until(Duration.ofSeconds(5), "the dead-letter gauge", () -> logicMeters.find(BraidMeters.PUBSUB_DEAD_LETTERS)
                .tag(BraidMeters.TAG_TOPIC, "t").gauge() != null
                && logicMeters.get(BraidMeters.PUBSUB_DEAD_LETTERS).tag(BraidMeters.TAG_TOPIC, "t").gauge().value() == 4);
    }

    @Test
    void discoveryElectionAndLinkGaugesReadTheModules() {
        TestCluster.TestNode gateway = cluster.start(new TestCluster.Spec("gateway", "gateway-1", null, null, gatewayMeters));
        TestCluster.TestNode logic = cluster.start(new TestCluster.Spec("logic", "logic-1", null, null, logicMeters));
        cluster.start(TestCluster.Spec.of("logic", "logic-2"));
        Await.until(Duration.ofSeconds(5), "two logic nodes", () -> gauge(gatewayMeters, BraidMeters.DISCOVER_NODES,
                BraidMeters.TAG_SERVICE, "logic", BraidMeters.TAG_STATE, "ACTIVE") == 2);
        cluster.nodes().get(2).drain();
        assertThat(gauge(gatewayMeters, BraidMeters.DISCOVER_NODES, BraidMeters.TAG_SERVICE, "logic",
                BraidMeters.TAG_STATE, "DRAINING")).isEqualTo(1);
        Await.until(Duration.ofSeconds(5), "logic-1 to lead", () -> logic.elector.role() == Role.LEADER);
        assertThat(gauge(logicMeters, BraidMeters.ELECTION_ROLE, BraidMeters.TAG_SERVICE, "logic", BraidMeters.TAG_ROLE,
                "LEADER")).isEqualTo(1);
        assertThat(gauge(logicMeters, BraidMeters.ELECTION_ROLE, BraidMeters.TAG_SERVICE, "logic", BraidMeters.TAG_ROLE,
                "FOLLOWER")).isZero();
        assertThat(gauge(logicMeters, BraidMeters.ELECTION_EPOCH, BraidMeters.TAG_SERVICE, "logic"))
                .isEqualTo(logic.elector.epoch());
        for (int i = 0; i < 3; i++) {
            gateway.hello("logic", "gauge-player-" + i, "x"); // logic-2 drains: every token goes to logic-1
        }
        Await.until(Duration.ofSeconds(5), "logic-1's link gauge", () ->
                gauge(logicMeters, BraidMeters.LINKCACHE_LINKS, BraidMeters.TAG_NODE, "logic-1") == 3);
    }

    @Test
    void closingRemovesTheGaugesFromABorrowedRegistry() {
        TestCluster.TestNode gateway = cluster.start(new TestCluster.Spec("gateway", "gateway-1", null, null, gatewayMeters));
        assertThat(gatewayMeters.find(BraidMeters.ELECTION_EPOCH).gauge()).isNotNull();
        gateway.close();
        assertThat(gatewayMeters.find(BraidMeters.ELECTION_EPOCH).gauge()).isNull();
        assertThat(gatewayMeters.find(BraidMeters.PLAYERS_ACTIVE).gauge()).isNull();
        assertThat(gatewayMeters.find(BraidMeters.NODE_FENCED).gauge()).isNull();
        assertThat(gatewayMeters.isClosed()).isFalse();
    }

    @Test
    void playersAndTheFenceAreRecordedAsTheListenerHearsThem() {
        try (Monitoring monitoring = Monitoring.builder("logic", "logic-1").meterRegistry(logicMeters).build()) {
            // Every family exists at 0 before the first player, each counter with every tag value.
            assertThat(gauge(BraidMeters.PLAYERS_ACTIVE)).isZero();
            assertThat(gauge(BraidMeters.NODE_FENCED)).isZero();
            assertThat(counter(BraidMeters.PLAYERS_ACTIVATIONS, BraidMeters.TAG_HOW, "handoff")).isZero();
            assertThat(counter(BraidMeters.PLAYERS_HANDOFFS, BraidMeters.TAG_OUTCOME, "stale")).isZero();

            PlayerListener players = monitoring.playerListener();
            players.activated(PlayerStates.Activation.FRESH);
            players.activated(PlayerStates.Activation.HANDOFF);
            players.activated(PlayerStates.Activation.STORE);
            players.deactivated(PlayerStates.Deactivation.MOVED);
            players.handedOver("logic-2", Duration.ofMillis(30));
            players.handedOver("logic-3", Duration.ofMillis(50));
            players.notHandedOver(PlayerListener.NotMoved.STAYED);
            players.received();
            players.saved(PlayerListener.SaveOutcome.SAVED);
            players.saved(PlayerListener.SaveOutcome.SAVED);
            players.saved(PlayerListener.SaveOutcome.REFUSED);
            players.rebalanced(7);
            players.fenceClosed();

            assertThat(gauge(BraidMeters.PLAYERS_ACTIVE)).isEqualTo(2);
            assertThat(counter(BraidMeters.PLAYERS_ACTIVATIONS, BraidMeters.TAG_HOW, "fresh")).isEqualTo(1);
            assertThat(counter(BraidMeters.PLAYERS_ACTIVATIONS, BraidMeters.TAG_HOW, "handoff")).isEqualTo(1);
            assertThat(counter(BraidMeters.PLAYERS_DEACTIVATIONS, BraidMeters.TAG_WHY, "moved")).isEqualTo(1);
            assertThat(counter(BraidMeters.PLAYERS_DEACTIVATIONS, BraidMeters.TAG_WHY, "idle")).isZero();
            assertThat(counter(BraidMeters.PLAYERS_HANDOFFS, BraidMeters.TAG_OUTCOME, "handed_over")).isEqualTo(2);
            assertThat(counter(BraidMeters.PLAYERS_HANDOFFS, BraidMeters.TAG_OUTCOME, "stayed")).isEqualTo(1);
            Timer took = logicMeters.get(BraidMeters.PLAYERS_HANDOFF_DURATION).tag(BraidMeters.TAG_SERVICE, "logic").timer();
            assertThat(took.count()).isEqualTo(2);
            assertThat(took.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(80);
            assertThat(logicMeters.get(BraidMeters.PLAYERS_RECEIVED).counter().count()).isEqualTo(1);
            assertThat(counter(BraidMeters.PLAYERS_SAVES, BraidMeters.TAG_OUTCOME, "saved")).isEqualTo(2);
            assertThat(counter(BraidMeters.PLAYERS_SAVES, BraidMeters.TAG_OUTCOME, "refused")).isEqualTo(1);
            assertThat(counter(BraidMeters.PLAYERS_SAVES, BraidMeters.TAG_OUTCOME, "failed")).isZero();
            assertThat(logicMeters.get(BraidMeters.PLAYERS_REBALANCE_MOVES).counter().count()).isEqualTo(7);
            assertThat(gauge(BraidMeters.NODE_FENCED)).isEqualTo(1);
            assertThat(logicMeters.get(BraidMeters.NODE_FENCE_CLOSURES).counter().count()).isEqualTo(1);

            players.fenceOpened();
            assertThat(gauge(BraidMeters.NODE_FENCED)).isZero();
            assertThat(logicMeters.get(BraidMeters.NODE_FENCE_CLOSURES).counter().count()).isEqualTo(1);
        }
    }

    @Test
    void theFenceGaugeAsksTheLentFenceWhenItIsRead() {
        try (Monitoring monitoring = Monitoring.builder("logic", "logic-1").meterRegistry(logicMeters).build()) {
            PlayerListener players = monitoring.playerListener();
            java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
            // A fence like the node's: asking it tells the listener a change.
            java.util.concurrent.atomic.AtomicBoolean toldOpen = new java.util.concurrent.atomic.AtomicBoolean(true);
            players.watchFence(() -> {
                boolean now = open.get();
                if (toldOpen.getAndSet(now) != now) {
                    if (now) {
                        players.fenceOpened();
                    } else {
                        players.fenceClosed();
                    }
                }
                return now;
            });
            assertThat(gauge(BraidMeters.NODE_FENCED)).isZero();
            open.set(false); // nobody asked the fence since: only the read does
            assertThat(gauge(BraidMeters.NODE_FENCED)).isEqualTo(1);
            assertThat(logicMeters.get(BraidMeters.NODE_FENCE_CLOSURES).counter().count()).isEqualTo(1);
            open.set(true);
            assertThat(gauge(BraidMeters.NODE_FENCED)).isZero();
        }
    }

    private double gauge(String name) {
        return logicMeters.get(name).tag(BraidMeters.TAG_SERVICE, "logic").gauge().value();
    }

    private double counter(String name, String tag, String value) {
        return logicMeters.get(name).tag(BraidMeters.TAG_SERVICE, "logic").tag(tag, value).counter().count();
    }

    @Test
    void settingsAreCheckedAtOnce() {
        assertThatThrownBy(() -> Monitoring.builder(" ", "n")).hasMessageContaining("service");
        assertThatThrownBy(() -> Monitoring.builder("s", "n").sampling(Duration.ofMillis(1), 10))
                .hasMessageContaining("sampling interval");
        assertThatThrownBy(() -> MonitorOptions.port(70_000)).hasMessageContaining("0..65535");
        assertThatThrownBy(() -> MonitorOptions.DEFAULT.withBearerToken("short")).hasMessageContaining("16..512");
        assertThatThrownBy(() -> MonitorOptions.DEFAULT.withRefreshInterval(Duration.ofMillis(1)))
                .hasMessageContaining("refreshInterval");
        assertThat(MonitorOptions.DEFAULT.host()).isEqualTo("127.0.0.1");
        assertThat(MonitorOptions.DEFAULT.port()).isEqualTo(9999);
        assertThat(MonitorOptions.DEFAULT.withBearerToken("0123456789abcdef").toString()).doesNotContain("0123456789abcdef");
    }

    private static Timer timer(MeterRegistry registry, String name, String service, String method, String code) {
        return registry.get(name).tags(BraidMeters.TAG_SERVICE, service, BraidMeters.TAG_METHOD, method,
                BraidMeters.TAG_CODE, code).timer();
    }

    private static double count(MeterRegistry registry, String name, String outcome) {
        var counter = registry.find(name).tag(BraidMeters.TAG_OUTCOME, outcome).counter();
        return counter == null ? 0 : counter.count();
    }

    private static double gauge(MeterRegistry registry, String name, String... tags) {
        var gauge = registry.find(name).tags(tags).gauge();
        return gauge == null ? -1 : gauge.value();
    }
}
