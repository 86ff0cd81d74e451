package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.NodeState;
import io.braid.monitor.internal.Monitoring;
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
    void anExpectContinueRequestWithoutTheTokenGetsNoInterimAnswerOnlyTheRefusal() throws Exception {
        // Found by MonitorHttpFuzzTest: the aggregator answered "100 Continue" before the token check.
        TestCluster.TestNode node = cluster.start(TestCluster.Spec.of("gateway", "gw-1")
                .withHttp(MonitorOptions.port(0).withBearerToken(TOKEN)));
        InetSocketAddress bound = node.monitoring.httpAddress().orElseThrow();
        for (String request : List.of("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n\r\n",
                "POST /api/nodes/gw-1/drain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                        + "Expect: 100-continue\r\n\r\n{}")) { // a client that sends its body at once
            try (Socket socket = new Socket(bound.getAddress(), bound.getPort())) {
                socket.setSoTimeout(5_000);
                socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                String statusLine = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                        java.nio.charset.StandardCharsets.US_ASCII)).readLine();
                assertThat(statusLine).as("first answer to " + request.lines().findFirst().orElseThrow())
                        .startsWith("HTTP/1.1 401");
            }
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

    @Test
    void aBindBeyondLoopbackWithoutATokenIsRefusedBeforeAnythingListens() {
        for (String host : List.of("0.0.0.0", "::")) {
            MonitorOptions open = MonitorOptions.port(0).withHost(host);
            assertThatThrownBy(() -> Monitoring.builder("gateway", "gw-1").http(open))
                    .as("binding %s without a token", host)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("monitor host " + host)
                    .hasMessageContaining("no bearer token")
                    .hasMessageContaining("withBearerToken")
                    .hasMessageContaining("allowUnauthenticatedReads");
        }
        // Loopback needs no token, however it is spelled.
        for (String host : List.of("127.0.0.1", "localhost", "::1", "127.0.0.2")) {
            Monitoring.builder("gateway", "gw-1").http(MonitorOptions.port(0).withHost(host)).build().close();
        }
    }

    @Test
    void beyondLoopbackWithATokenEveryActionNeedsIt() throws Exception {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gw-1")
                .withHttp(MonitorOptions.port(0).withHost("0.0.0.0").withBearerToken(TOKEN)));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        assertThat(gateway.monitoring.httpAddress().orElseThrow().getAddress().isAnyLocalAddress()).isTrue();
        for (String base : reachableBases(gateway)) {
            assertThat(Http.get(base + "/api/cluster", null).statusCode()).as(base).isEqualTo(401);
            assertThat(Http.get(base + "/metrics", null).statusCode()).as(base).isEqualTo(401);
            assertThat(Http.post(base + "/api/nodes/logic-1/drain", null, "application/json", "{}").statusCode())
                    .as(base).isEqualTo(401);
            assertThat(Http.post(base + "/api/nodes/logic-1/weight", null, "application/json", "{\"weight\": 0}")
                    .statusCode()).as(base).isEqualTo(401);
            assertThat(Http.get(base + "/healthz", null).statusCode()).as(base).isEqualTo(200);
        }
        assertThat(logic.drains).isZero();
        assertThat(logic.node().weight()).isEqualTo(100);
        String base = gateway.baseUrl();
        assertThat(Http.post(base + "/api/nodes/logic-1/weight", TOKEN, "application/json", "{\"weight\": 0}")
                .statusCode()).isEqualTo(200);
        assertThat(logic.node().weight()).isZero();
        assertThat(Http.post(base + "/api/nodes/logic-1/drain", TOKEN, "application/json", "{}").statusCode())
                .isEqualTo(200);
        assertThat(logic.drains).isEqualTo(1);
    }

    @Test
    void theOptOutServesReadsBeyondLoopbackWithoutATokenNeverTheActionsAndWarnsAtEveryStart() throws Exception {
        MonitorOptions readsOnly = MonitorOptions.port(0).withHost("0.0.0.0").allowUnauthenticatedReads();
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        for (String id : List.of("gw-1", "gw-2")) { // every start warns, not only the JVM's first
            TestCluster.TestNode gateway;
            String log;
            try (StderrCapture captured = StderrCapture.start()) {
                gateway = cluster.start(TestCluster.Spec.of("gateway", id).withHttp(readsOnly));
                log = captured.text();
            }
            assertThat(log).as("what starting %s logged", id)
                    .containsPattern("WARN .*MonitorHttpServer - braid monitor of node " + id + " .*WITHOUT A BEARER TOKEN")
                    .contains("allowUnauthenticatedReads").contains("refused (403)");
            for (String base : reachableBases(gateway)) {
                for (String read : List.of("/api/cluster", "/api/topics", "/api/tokens/p1", "/metrics")) {
                    assertThat(Http.get(base + read, null).statusCode()).as(base + read).isEqualTo(200);
                }
                HttpResponse<String> drain = Http.post(base + "/api/nodes/logic-1/drain", null, "application/json", "{}");
                assertThat(drain.statusCode()).as(base + " drain").isEqualTo(403);
                assertThat(drain.body()).contains("bearer token");
                assertThat(Http.post(base + "/api/nodes/logic-1/weight", null, "application/json", "{\"weight\": 0}")
                        .statusCode()).as(base + " weight").isEqualTo(403);
                assertThat(Http.post(base + "/api/nodes/logic-1/drain", "any-token-at-all-0123", "application/json", "{}")
                        .statusCode()).as(base + " drain with a made-up token").isEqualTo(403);
            }
        }
        assertThat(logic.drains).isZero();
        assertThat(logic.node().state()).isEqualTo(NodeState.ACTIVE);
        assertThat(logic.node().weight()).isEqualTo(100);
    }

    @Test
    void withATokenTheOptOutOpensTheReadsOnly() throws Exception {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gw-1").withHttp(
                MonitorOptions.port(0).withHost("0.0.0.0").withBearerToken(TOKEN).allowUnauthenticatedReads()));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        for (String base : reachableBases(gateway)) {
            assertThat(Http.get(base + "/api/cluster", null).statusCode()).as(base).isEqualTo(200);
            assertThat(Http.get(base + "/metrics", null).statusCode()).as(base).isEqualTo(200);
            assertThat(Http.post(base + "/api/nodes/logic-1/drain", null, "application/json", "{}").statusCode())
                    .as(base).isEqualTo(401);
            assertThat(Http.post(base + "/api/nodes/logic-1/weight", TOKEN.substring(1), "application/json",
                    "{\"weight\": 0}").statusCode()).as(base).isEqualTo(401);
        }
        assertThat(logic.drains).isZero();
        assertThat(logic.node().weight()).isEqualTo(100);
        assertThat(Http.post(gateway.baseUrl() + "/api/nodes/logic-1/weight", TOKEN, "application/json",
                "{\"weight\": 7}").statusCode()).isEqualTo(200);
        assertThat(logic.node().weight()).isEqualTo(7);
    }

    /**
     * Without a token the loopback monitor answers only requests addressed to loopback: a web page
     * that points its own name at 127.0.0.1 (DNS rebinding) sends its name as Host, and is refused.
     */
    @Test
    void withoutATokenOnlyRequestsAddressedToLoopbackReachTheDataAndTheActions() throws Exception {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gw-1").withHttp(MonitorOptions.port(0)));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        int port = gateway.monitoring.httpAddress().orElseThrow().getPort();
        for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1.evil.example", "10.0.0.1:" + port,
                "[::1]x", "localhost.evil.example:" + port, "0.0.0.0:" + port)) {
            assertThat(rawStatus(port, "GET /api/cluster HTTP/1.1", host, "")).as("read with Host " + host).isEqualTo(403);
            assertThat(rawStatus(port, "POST /api/nodes/logic-1/drain HTTP/1.1", host, "{}")).as("drain with Host " + host)
                    .isEqualTo(403);
            assertThat(rawStatus(port, "GET /healthz HTTP/1.1", host, "")).as("health with Host " + host).isEqualTo(200);
        }
        assertThat(logic.drains).isZero();
        for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port, "127.1.2.3")) {
            assertThat(rawStatus(port, "GET /api/cluster HTTP/1.1", host, "")).as("read with Host " + host).isEqualTo(200);
        }
        assertThat(rawStatus(port, "POST /api/nodes/logic-1/drain HTTP/1.1", "localhost:" + port, "{}")).isEqualTo(200);
        assertThat(logic.drains).isEqualTo(1);
    }

    /** Another site may not frame the page (clickjacking the drain button): every answer says so. */
    @Test
    void noOtherPageMayFrameTheDashboard() {
        TestCluster.TestNode node = cluster.start(TestCluster.Spec.of("gateway", "gw-1").withHttp(MonitorOptions.port(0)));
        for (String path : List.of("/", "/index.html", "/dashboard.js", "/api/cluster", "/healthz", "/nope")) {
            HttpResponse<String> answer = Http.get(node.baseUrl() + path, null);
            assertThat(answer.headers().firstValue("X-Frame-Options")).as(path).contains("DENY");
            assertThat(answer.headers().firstValue("Content-Security-Policy")).as(path).contains("frame-ancestors 'none'");
        }
    }

    /** The status of one request written by hand, with this Host header. */
    private static int rawStatus(int port, String requestLine, String host, String body) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(15_000);
            byte[] content = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            String head = requestLine + "\r\nHost: " + host + "\r\nConnection: close\r\n"
                    + (requestLine.startsWith("POST") ? "Content-Type: application/json\r\n" : "")
                    + "Content-Length: " + content.length + "\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().write(content);
            socket.getOutputStream().flush();
            String statusLine = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            assertThat(statusLine).as("status line").isNotNull().startsWith("HTTP/1.1 ");
            return Integer.parseInt(statusLine.substring(9, 12));
        }
    }

    /** The monitor's base URLs through loopback and, when this machine has one, its network address. */
    private static List<String> reachableBases(TestCluster.TestNode node) throws SocketException {
        int port = node.monitoring.httpAddress().orElseThrow().getPort();
        List<String> bases = new java.util.ArrayList<>(List.of("http://127.0.0.1:" + port));
        nonLoopbackAddress().ifPresent(a -> bases.add("http://" + a.getHostAddress() + ":" + port));
        return bases;
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
