package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.NodeState;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor's security promises: it listens on loopback unless told otherwise; with a bearer
 * token set, every route but health, readiness and the static page refuses a request without the
 * exact token; the operator actions (drain, weight) change nothing without it.
 */
class MonitorSecurityTest {
    private static final String TOKEN = "security-monitor-token-0123";
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void theMonitorListensOnLoopbackOnlyByDefault() throws Exception {
        assertThat(MonitorOptions.DEFAULT.host()).isEqualTo("127.0.0.1");
        TestCluster.TestNode node = cluster.start(TestCluster.Spec.of("gateway", "gw-1").withHttp(MonitorOptions.port(0)));
        InetSocketAddress bound = node.monitoring.httpAddress().orElseThrow();
        assertThat(bound.getAddress().isLoopbackAddress()).as("bound to " + bound).isTrue();
        assertThat(Http.get(node.baseUrl() + "/healthz", null).statusCode()).isEqualTo(200);

        // From this machine's own non-loopback address, as a neighbour on the network would reach it.
        Optional<InetAddress> external = nonLoopbackAddress();
        if (external.isPresent()) {
            try (Socket socket = new Socket()) {
                assertThatThrownBy(() -> socket.connect(new InetSocketAddress(external.get(), bound.getPort()), 2_000))
                        .as("connecting through " + external.get()).isInstanceOf(ConnectException.class);
            }
        }
    }

    @Test
    void withATokenEveryRouteButHealthAndThePageRefusesRequestsWithoutIt() {
        TestCluster.TestNode node = cluster.start(TestCluster.Spec.of("gateway", "gw-1")
                .withHttp(MonitorOptions.port(0).withBearerToken(TOKEN)));
        String base = node.baseUrl();
        for (String path : List.of("/metrics", "/api/cluster", "/api/topics", "/api/tokens/p1", "/api/nope",
                "/nope", "/api/nodes/gw-1/drain", "/metrics?token=" + TOKEN, "/metrics?access_token=" + TOKEN,
                "/healthz/../metrics", "/%6detrics")) {
            for (String wrong : List.of("", TOKEN.substring(1), TOKEN + "x", TOKEN.toUpperCase())) {
                HttpResponse<String> refused = Http.get(base + path, wrong.isEmpty() ? null : wrong);
                assertThat(refused.statusCode()).as(path + " with '" + wrong + "'").isEqualTo(401);
                assertThat(refused.body()).doesNotContain("braid_", "services");
            }
        }
        // Only the exact header: the scheme as the server names it, one space, the token.
        assertThat(raw(base + "/api/cluster", "bearer " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(raw(base + "/api/cluster", TOKEN).statusCode()).isEqualTo(401);
        assertThat(raw(base + "/api/cluster", "Bearer  " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(raw(base + "/api/cluster", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
        for (String open : List.of("/healthz", "/readyz", "/", "/index.html", "/dashboard.js", "/dashboard.css")) {
            assertThat(Http.get(base + open, null).statusCode()).as(open).isEqualTo(200);
        }
    }

    @Test
    void drainAndWeightChangeNothingWithoutTheToken() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gw-1")
                .withHttp(MonitorOptions.port(0).withBearerToken(TOKEN)));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        String base = gateway.baseUrl();
        for (String wrong : new String[] {null, "wrong-token-wrong-token", TOKEN.substring(1)}) {
            assertThat(Http.post(base + "/api/nodes/logic-1/drain", wrong, "application/json", "{}").statusCode())
                    .as("drain with " + wrong).isEqualTo(401);
            assertThat(Http.post(base + "/api/nodes/logic-1/weight", wrong, "application/json", "{\"weight\": 1}")
                    .statusCode()).as("weight with " + wrong).isEqualTo(401);
            assertThat(Http.post(base + "/api/nodes/logic-1/drain?token=" + TOKEN, wrong, "application/json", "{}")
                    .statusCode()).as("drain with the token in the query").isEqualTo(401);
        }
        assertThat(logic.drains).isZero();
        assertThat(logic.node().state()).isEqualTo(NodeState.ACTIVE);
        assertThat(logic.node().weight()).isEqualTo(100);

        // The same requests with the token do act: the refusals above were the token's doing.
        assertThat(Http.post(base + "/api/nodes/logic-1/weight", TOKEN, "application/json", "{\"weight\": 1}")
                .statusCode()).isEqualTo(200);
        assertThat(logic.node().weight()).isEqualTo(1);
        assertThat(Http.post(base + "/api/nodes/logic-1/drain", TOKEN, "application/json", "{}").statusCode())
                .isEqualTo(200);
        assertThat(logic.drains).isEqualTo(1);
    }

    /** A GET with exactly this Authorization header (java.net.http would not let some through). */
    private static HttpResponse<String> raw(String url, String authorization) {
        return Http.getWithAuthorization(url, authorization);
    }

    private static Optional<InetAddress> nonLoopbackAddress() throws SocketException {
        return NetworkInterface.networkInterfaces()
                .filter(nic -> {
                    try {
                        return nic.isUp() && !nic.isLoopback();
                    } catch (SocketException e) {
                        return false;
                    }
                })
                .flatMap(NetworkInterface::inetAddresses)
                .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
                .findFirst();
    }
}
