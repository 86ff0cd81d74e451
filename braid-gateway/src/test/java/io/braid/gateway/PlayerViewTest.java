package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.braid.testkit.Await;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The monitor's "where is a player?" ({@code GET /api/players/{token}}) shows the player's gateway
 * session: bound, then detached with the resume grace counting down, then resumed — asked over
 * HTTP from a gateway node's monitor, against real gateways and sockets.
 */
class PlayerViewTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void theMonitorShowsAPlayersSessionBoundThenDetachedWithItsGraceLeftThenResumedElsewhere() throws Exception {
        try (GatewayFixture cluster = GatewayFixture.inMemory()) {
            GatewayFixture.GatewayNode g1 = cluster.monitoredGateway("gateway-1",
                    builder -> builder.resumeGrace(Duration.ofSeconds(30)));
            GatewayFixture.GatewayNode g2 = cluster.gateway("gateway-2",
                    builder -> builder.resumeGrace(Duration.ofSeconds(30)));
            TestClient first = TestClient.tcp(g1.tcp());
            var loggedIn = first.login("player:ann").getLoginOk();

            Map<String, String> bound = sessionView(g1, "player:ann", "gateway-1");
            assertThat(bound).containsEntry("gateway.state", "BOUND")
                    .containsEntry("gateway.session", loggedIn.getSessionId())
                    .containsEntry("gateway.resumed", "false")
                    .doesNotContainKey("gateway.graceSecondsLeft");

            first.close();
            Await.until(TestClient.WAIT, "the session to detach",
                    () -> "DETACHED".equals(sessionView(g1, "player:ann", "gateway-1").get("gateway.state")));
            double left = Double.parseDouble(sessionView(g1, "player:ann", "gateway-1").get("gateway.graceSecondsLeft"));
            assertThat(left).isBetween(0.0, 30.0).isGreaterThan(5.0);

            TestClient second = TestClient.tcp(g2.tcp());
            assertThat(second.resume(loggedIn.getResumeToken(), 0).hasResumed()).isTrue();
            Await.until(TestClient.WAIT, "the resumed session to show on gateway-2",
                    () -> "BOUND".equals(sessionView(g1, "player:ann", "gateway-2").get("gateway.state")));
            assertThat(sessionView(g1, "player:ann", "gateway-2"))
                    .containsEntry("gateway.session", loggedIn.getSessionId())
                    .containsEntry("gateway.resumed", "true");
            assertThat(sessionView(g1, "player:ann", "gateway-1")).as("the gateway it left holds nothing").isEmpty();
            second.close();
        }
    }

    /** What {@code node} contributed about {@code token} to the answer of {@code monitor}'s API; empty if nothing. */
    private static Map<String, String> sessionView(GatewayFixture.GatewayNode monitor, String token, String node) {
        String url = "http://127.0.0.1:" + monitor.node().monitorAddress().orElseThrow().getPort() + "/api/players/"
                + URLEncoder.encode(token, StandardCharsets.UTF_8);
        HttpResponse<String> response;
        try {
            response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(url, e);
        }
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonObject answer = JsonParser.parseString(response.body()).getAsJsonObject();
        JsonArray contributed = answer.has("contributed") ? answer.getAsJsonArray("contributed") : new JsonArray();
        for (JsonElement entry : contributed) {
            JsonObject c = entry.getAsJsonObject();
            if (c.get("node").getAsString().equals(node)) {
                return c.getAsJsonObject("extra").entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().getAsString()));
            }
        }
        return Map.of();
    }
}
