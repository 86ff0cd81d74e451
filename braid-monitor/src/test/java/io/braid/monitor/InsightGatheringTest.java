package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Node;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code /api/players/{token}} and {@code /api/timeline} when a node does not answer: a node
 * registered at a port nothing listens on is named under {@code unreachable} with its error, the
 * others' answers still come, within the gather timeout. Nodes that record nothing for the
 * monitor (these test nodes are no {@code NodeInsight}) answer "nothing known" and no events. An
 * empty token is refused.
 */
class InsightGatheringTest {
    @Test
    void aNodeThatDoesNotAnswerIsNamedAndTheRestStillAnswers() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        try (TestCluster cluster = new TestCluster()) {
            TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                    .withHttp(MonitorOptions.port(0).withGatherTimeout(Duration.ofSeconds(1))));
            cluster.start(TestCluster.Spec.of("logic", "logic-1"));
            gateway.hello("logic", "player-1", "p1");
            gateway.discover.register(Node.of("logic-9", "logic", "127.0.0.1", deadPort, 100));
            io.braid.testkit.Await.until(Duration.ofSeconds(5), "the gateway lists logic-9",
                    () -> gateway.discover.nodes("logic").size() == 2);

            long started = System.nanoTime();
            Map<String, Object> player = Http.json(Http.get(gateway.baseUrl() + "/api/players/player-1", null));
            Map<String, Object> timeline = Http.json(Http.get(gateway.baseUrl() + "/api/timeline", null));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));

            assertThat(player.get("known")).isEqualTo(true);
            List<Map<String, Object>> services = MonitorJson.list(player.get("services"));
            assertThat(services).singleElement().satisfies(logic -> {
                assertThat(logic).containsEntry("service", "logic").containsEntry("owner", "logic-1")
                        .containsEntry("ownerReachable", true).containsEntry("servesPlayers", false)
                        .containsEntry("active", false);
                assertThat((Long) logic.get("epoch")).isPositive();
            });
            assertThat(MonitorJson.list(player.get("unreachable"))).singleElement()
                    .satisfies(u -> assertThat(u.get("node")).isEqualTo("logic-9"));
            assertThat(MonitorJson.list(timeline.get("unreachable"))).extracting(u -> u.get("node"))
                    .containsExactly("logic-9");
            assertThat(MonitorJson.list(timeline.get("events"))).isEmpty();

            HttpResponse<String> empty = Http.get(gateway.baseUrl() + "/api/players/", null);
            assertThat(empty.statusCode()).isEqualTo(400);
            assertThat(empty.body()).contains("the player token is empty");
        }
    }
}
