package io.braid.monitor;

import static io.braid.monitor.MonitorJson.list;
import static io.braid.monitor.MonitorJson.node;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.monitor.internal.BraidMeters;
import io.braid.testkit.Await;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The lane meters and the hot players against real nodes: calls of a method registered to run in
 * its token's lane, held by a latch so that later calls of the token wait behind the first.
 */
class LaneMetersTest {
    private static final String SECRET = "sixteen or more chars";

    private final TestCluster cluster = new TestCluster();
    private final MeterRegistry logicMeters = new SimpleMeterRegistry();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() {
        release.countDown();
        cluster.close();
    }

    /** "move" runs in its token's lane; a request "hold" holds the turn until {@link #release}. */
    private TestCluster.TestNode logic(TestCluster.Spec spec) {
        TestCluster.TestNode logic = cluster.start(spec);
        logic.server.handleInLane("move", StringValue.parser(), (ctx, request) -> {
            if (request.getValue().equals("hold")) {
                release.await(10, TimeUnit.SECONDS);
            }
            return StringValue.of("moved");
        });
        return logic;
    }

    private static CompletableFuture<StringValue> move(TestCluster.TestNode from, String token, String what,
                                                       Duration timeout) {
        return from.client.invoke("logic", "move", token, StringValue.of(what), StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(timeout));
    }

    @Test
    void depthAtEntryWaitAndRunAreMeteredPerService() throws Exception {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1"));
        TestCluster.TestNode logic = logic(TestCluster.Spec.of("logic", "logic-1").withRegistry(logicMeters));
        // The meters exist from the start, at 0, so /metrics shows the families before any lane.
        assertThat(depth().count()).isZero();
        assertThat(timer(BraidMeters.LANE_WAIT).count()).isZero();

        List<CompletableFuture<StringValue>> calls = new ArrayList<>();
        calls.add(move(gateway, "player-1", "hold", Duration.ofSeconds(10)));
        Await.until(Duration.ofSeconds(5), "the first call holds the lane", () -> logic.server.laneCount() == 1);
        for (int waiting = 1; waiting <= 2; waiting++) {
            calls.add(move(gateway, "player-1", "next", Duration.ofSeconds(10)));
            int expected = waiting;
            Await.until(Duration.ofSeconds(5), expected + " waiting", () -> logic.server.laneWaiting("player-1") == expected);
        }
        long since = System.nanoTime();
        Await.until(Duration.ofSeconds(5), "50 ms of waiting", () -> System.nanoTime() - since >= 50_000_000L);
        release.countDown();
        for (CompletableFuture<StringValue> call : calls) {
            assertThat(call.get(5, TimeUnit.SECONDS).getValue()).isEqualTo("moved");
        }

        Await.until(Duration.ofSeconds(5), "three turns", () -> timer(BraidMeters.LANE_RUN).count() == 3);
        // Entering: 0 ahead (free lane), then 1 (the turn), then 2 (the turn and one waiting).
        assertThat(depth().count()).isEqualTo(3);
        assertThat(depth().totalAmount()).isEqualTo(3.0);
        assertThat(depth().max()).isEqualTo(2.0);
        assertThat(timer(BraidMeters.LANE_WAIT).count()).isEqualTo(3);
        assertThat(timer(BraidMeters.LANE_WAIT).max(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(50.0);
        assertThat(timer(BraidMeters.LANE_RUN).max(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(50.0);
        // A call outside any lane is no lane's business.
        gateway.hello("logic", "player-1", "x");
        assertThat(depth().count()).isEqualTo(3);
    }

    @Test
    void aCallWhoseDeadlinePassesWhileItWaitsIsTimedAsWaitNeverAsRun() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1"));
        TestCluster.TestNode logic = logic(TestCluster.Spec.of("logic", "logic-1").withRegistry(logicMeters));
        CompletableFuture<StringValue> holder = move(gateway, "player-2", "hold", Duration.ofSeconds(10));
        Await.until(Duration.ofSeconds(5), "the first call holds the lane", () -> logic.server.laneCount() == 1);
        CompletableFuture<StringValue> late = move(gateway, "player-2", "next", Duration.ofMillis(200));

        assertThat(late).failsWithin(Duration.ofSeconds(5)).withThrowableThat()
                .havingRootCause().isInstanceOf(BraidException.class)
                .satisfies(e -> assertThat(((BraidException) e).code()).isEqualTo(Code.DEADLINE_EXCEEDED));
        Await.until(Duration.ofSeconds(5), "the expired call's wait", () -> timer(BraidMeters.LANE_WAIT).count() == 1);
        assertThat(timer(BraidMeters.LANE_WAIT).max(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(150.0);
        assertThat(timer(BraidMeters.LANE_RUN).count()).isZero();
        release.countDown();
        holder.join();
        Await.until(Duration.ofSeconds(5), "the holder's turn", () -> timer(BraidMeters.LANE_RUN).count() == 1);
        assertThat(timer(BraidMeters.LANE_WAIT).count()).isEqualTo(2);
    }

    @Test
    void theNodesHotPlayersAreInItsStatsByCallsAndRunTime() {
        release.countDown(); // nothing holds: every call runs at once
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                .withHttp(MonitorOptions.port(0)));
        logic(TestCluster.Spec.of("logic", "logic-1"));
        for (int i = 0; i < 12; i++) {
            for (int call = 0; call <= i; call++) {
                move(gateway, "player-" + i, "next", Duration.ofSeconds(5)).join();
            }
        }
        Await.until(Duration.ofSeconds(5), "78 calls counted", () -> hotCalls(gateway) == 78 - 1 - 2); // top 10 of 12
        List<Map<String, Object>> hot = list(node(Http.json(Http.get(gateway.baseUrl() + "/api/cluster", null)),
                "logic", "logic-1").get("hotPlayers"));
        assertThat(hot).extracting(m -> m.get("player")).containsExactly("player-11", "player-10", "player-9",
                "player-8", "player-7", "player-6", "player-5", "player-4", "player-3", "player-2");
        assertThat(((Number) hot.get(0).get("calls")).longValue()).isEqualTo(12L);
        assertThat(((Number) hot.get(0).get("runMillis")).doubleValue()).isGreaterThanOrEqualTo(0.0);
        // A node that ran nothing in a lane has no hot players.
        assertThat(list(node(Http.json(Http.get(gateway.baseUrl() + "/api/cluster", null)), "gateway", "gateway-1")
                .get("hotPlayers"))).isEmpty();
    }

    @Test
    void hashedHotPlayersNeverShowTheToken() {
        release.countDown();
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                .withHttp(MonitorOptions.port(0)));
        logic(TestCluster.Spec.of("logic", "logic-1").withPlayers(TracePlayers.hashed(SECRET)));
        move(gateway, "player-42", "next", Duration.ofSeconds(5)).join();
        Await.until(Duration.ofSeconds(5), "the call counted", () -> hotCalls(gateway) == 1);
        String body = Http.get(gateway.baseUrl() + "/api/cluster", null).body();
        assertThat(body).contains(TracePlayers.hashed(SECRET).show("player-42")).doesNotContain("player-42");
    }

    private long hotCalls(TestCluster.TestNode monitor) {
        Map<String, Object> json = Http.json(Http.get(monitor.baseUrl() + "/api/cluster", null));
        return list(node(json, "logic", "logic-1").get("hotPlayers")).stream()
                .mapToLong(m -> ((Number) m.get("calls")).longValue()).sum();
    }

    private DistributionSummary depth() {
        return logicMeters.get(BraidMeters.LANE_DEPTH).tag(BraidMeters.TAG_SERVICE, "logic").summary();
    }

    private Timer timer(String name) {
        return logicMeters.get(name).tag(BraidMeters.TAG_SERVICE, "logic").timer();
    }
}
