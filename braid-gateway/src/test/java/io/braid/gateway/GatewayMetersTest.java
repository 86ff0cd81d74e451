package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.proto.Reply;
import io.braid.testkit.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A gateway's meters on its node's {@code /metrics}: sessions by state, session events by type,
 * pushes by outcome, rate-limited calls — and every {@code braid_gateway_*} name the repository's
 * Grafana dashboard queries is one a real gateway exports (braid-monitor's GrafanaDashboardTest
 * leaves those names to this test: it cannot start a gateway).
 */
class GatewayMetersTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Path DASHBOARD = Path.of("").toAbsolutePath().getParent()
            .resolve("ops/grafana/braid-dashboard.json");

    @Test
    void sessionsEventsPushesAndRefusedCallsAreCountedAndTheDashboardQueriesOnlyThese() throws Exception {
        try (GatewayFixture cluster = GatewayFixture.inMemory()) {
            GatewayFixture.GatewayNode gateway = cluster.monitoredGateway("gateway-1", builder -> builder
                    .resumeGrace(Duration.ofSeconds(30)).callRateLimit(1, 1).maxRateLimitRefusals(1_000)
                    .ticker(() -> 0L)); // time stands still: the one-call bucket never refills
            TestClient ann = TestClient.tcp(gateway.tcp());
            TestClient bob = TestClient.tcp(gateway.tcp());
            ann.login("player:ann");
            bob.login("player:bob");

            cluster.pusher().push("player:ann", "hi".getBytes(StandardCharsets.UTF_8)).join();
            try {
                cluster.pusher().push("player:nobody", "hi".getBytes(StandardCharsets.UTF_8)).join();
            } catch (CompletionException e) {
                assertThat(e.getCause()).isInstanceOf(BraidException.class);
                assertThat(((BraidException) e.getCause()).code()).isEqualTo(Code.NOT_FOUND);
            }
            assertThat(ann.call("logic.player.act", "one").getCode()).isZero();
            Reply refused = ann.call("logic.player.act", "two");
            assertThat(refused.getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
            assertThat(refused.getMessage()).contains("rate limit");
            bob.close();
            Await.until(TestClient.WAIT, "bob's session to detach",
                    () -> scrape(gateway).contains("braid_gateway_sessions{service=\"gateway\",state=\"detached\"} 1.0"));

            String metrics = scrape(gateway);
            assertThat(metrics)
                    .contains("braid_gateway_sessions{service=\"gateway\",state=\"attached\"} 1.0")
                    .contains("braid_gateway_session_events_total{service=\"gateway\",type=\"BOUND\"} 2.0")
                    .contains("braid_gateway_session_events_total{service=\"gateway\",type=\"CLOSED\"} 0.0")
                    .contains("braid_gateway_pushes_total{outcome=\"accepted\",service=\"gateway\"} 1.0")
                    .contains("braid_gateway_pushes_total{outcome=\"not_found\",service=\"gateway\"} 1.0")
                    .contains("braid_gateway_rate_limited_total{service=\"gateway\"} 1.0");

            Set<String> queried = new TreeSet<>();
            Matcher names = Pattern.compile("braid_gateway_[a-z_]+").matcher(Files.readString(DASHBOARD));
            while (names.find()) {
                queried.add(names.group());
            }
            assertThat(queried).as("the dashboard's Gateway row").isNotEmpty();
            for (String name : queried) {
                assertThat(metrics).as("a gateway's /metrics shows %s", name).containsPattern("(?m)^" + name + "[{ ]");
            }
            ann.close();
        }
    }

    private static String scrape(GatewayFixture.GatewayNode gateway) {
        String url = "http://127.0.0.1:" + gateway.node().monitorAddress().orElseThrow().getPort() + "/metrics";
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            return response.body();
        } catch (Exception e) {
            throw new IllegalStateException(url, e);
        }
    }
}
