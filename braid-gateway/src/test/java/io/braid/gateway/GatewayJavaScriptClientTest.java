package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import io.braid.testkit.HeadlessChromium;
import io.braid.testkit.TcpProxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The browser client (braid-gateway.js, served from {@link GatewayClient#javaScript()}) in headless
 * Chromium against real gateways: a test page (client-page.html) served by the JDK's HttpServer
 * starts clients; the test drops connections with a {@link TcpProxy} and reads what the page
 * saw through DevTools. One browser and page for the class (starting Chromium is the slow part);
 * each test has its own gateways and closes its page clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayJavaScriptClientTest {
    static final Duration WAIT = Duration.ofSeconds(15);

    private GatewayFixture cluster;
    private HttpServer pages;
    private HeadlessChromium chromium;
    private TcpProxy proxy;

    @BeforeEach
    void startCluster() {
        cluster = GatewayFixture.inMemory();
    }

    @AfterEach
    void closeClientsAndCluster() throws Exception {
        if (chromium != null) {
            chromium.evaluateJson("Object.values(window.clients).forEach(record => record.client.close())");
            chromium.evaluateJson("(window.clients = {}, true)");
        }
        if (proxy != null) {
            proxy.close();
            proxy = null;
        }
        cluster.close();
    }

    @AfterAll
    void closeBrowser() {
        if (chromium != null) {
            chromium.close();
        }
        if (pages != null) {
            pages.stop(0);
        }
    }

    /** Serves the page and the client script on loopback; opens the page in Chromium. */
    @BeforeAll
    void openPage() throws IOException {
        pages = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        byte[] page;
        try (InputStream in = getClass().getResourceAsStream("client-page.html")) {
            page = in.readAllBytes();
        }
        pages.createContext("/", exchange -> {
            switch (exchange.getRequestURI().getPath()) {
                case "/page.html" -> answer(exchange, 200, "text/html; charset=utf-8", page);
                case "/braid-gateway.js" -> answer(exchange, 200, "text/javascript; charset=utf-8",
                        GatewayClient.javaScript());
                default -> answer(exchange, 404, "text/plain", "not here".getBytes(StandardCharsets.UTF_8));
            }
        });
        pages.start();
        String url = "http://127.0.0.1:" + pages.getAddress().getPort() + "/page.html";
        chromium = HeadlessChromium.open(url);
        Await.until(WAIT, () -> "the page to load the module; Chromium's log:\n" + chromium.log(),
                () -> "true".equals(chromium.evaluateJson("window.pageReady === true")));
    }

    private static void answer(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static String wsUrl(InetSocketAddress address) {
        return "ws://127.0.0.1:" + address.getPort() + Gateway.DEFAULT_WEBSOCKET_PATH;
    }

    private void startClient(String name, String credentials, InetSocketAddress... gateways) {
        StringBuilder urls = new StringBuilder("[");
        for (InetSocketAddress gateway : gateways) {
            urls.append(urls.length() > 1 ? "," : "").append('\'').append(wsUrl(gateway)).append('\'');
        }
        chromium.evaluateJson("window.startClient('" + name + "', " + urls + "], '" + credentials + "')");
        Await.until(WAIT, () -> name + " to connect; events " + eval(name, "events"),
                () -> !"null".equals(eval(name, "connected")));
    }

    /** A field of the page's record of client {@code name}, as JSON. */
    private String eval(String name, String field) {
        return chromium.evaluateJson("window.clients['" + name + "']." + field);
    }

    private String eventTypes(String name) {
        return eval(name, "events.map(e => e.type)");
    }

    private void awaitPushes(String name, int count) {
        Await.until(WAIT, () -> count + " pushes at " + name + "; got " + eval(name, "pushes"),
                () -> Integer.parseInt(eval(name, "pushes.length")) >= count);
    }

    private long pushWhenReachable(String token, String payload) {
        AtomicReference<Long> seq = new AtomicReference<>();
        Await.until(WAIT, "a push to " + token + " to be taken", () -> {
            try {
                seq.set(cluster.pusher().push(token, payload.getBytes(StandardCharsets.UTF_8)).join());
                return true;
            } catch (RuntimeException e) {
                if (BraidException.from(e).code() == Code.UNAVAILABLE) {
                    return false;
                }
                throw e;
            }
        });
        return seq.get();
    }

    private void push(String token, int from, int to) {
        for (int i = from; i <= to; i++) {
            assertThat(pushWhenReachable(token, "p" + i)).isEqualTo(i);
        }
    }

    /** An expression: the message of the error that constructing a client with {@code options} throws. */
    private static String refused(String options) {
        return "(() => { try { new window.GatewayClient(" + options + "); return 'accepted'; }"
                + " catch (error) { return error.message; } })()";
    }

    private static String pushList(int from, int to) {
        StringBuilder list = new StringBuilder("[");
        for (int i = from; i <= to; i++) {
            list.append(i > from ? "," : "").append('"').append(i).append(":p").append(i).append('"');
        }
        return list.append(']').toString();
    }

    @Test
    void aPageLogsInCallsAndAfterADropResumesWithExactlyTheMissedPushes() throws Exception {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(Duration.ofSeconds(20)));
        proxy = TcpProxy.to(one.ws());
        // Bad options are refused at once, naming the option.
        assertThat(chromium.evaluateJson(refused("{urls: []}"))).contains("urls must be a non-empty array");
        assertThat(chromium.evaluateJson(refused("{urls: ['http://x/ws'], credentials: 'c'}"))).contains("is not a ws://");
        assertThat(chromium.evaluateJson(refused("{urls: ['ws://x/ws'], credentials: ''}"))).contains("credentials");
        assertThat(chromium.evaluateJson(refused("{urls: ['ws://x/ws'], credentials: 'c', pingEveryMs: -1}")))
                .contains("pingEveryMs must be a positive number");
        assertThat(chromium.evaluateJson(refused("{urls: ['ws://x/ws'], credentials: 'c', reconnectMinMs: 500,"
                + " reconnectMaxMs: 100}"))).contains("reconnectMaxMs (100) must not be below reconnectMinMs (500)");
        assertThat(chromium.evaluateJson(refused("{urls: ['ws://x/ws'], credentials: 'c', giveUpAfterMs: 0}")))
                .as("giveUpAfterMs 0 turns reconnecting off").isEqualTo("\"accepted\"");
        startClient("ann", "player:ann", proxy.address());
        assertThat(eval("ann", "connected")).isEqualTo("\"ok player:ann\"");
        assertThat(chromium.evaluateJson("window.clients.ann.client.call('logic.player.act', 'jump')"
                + ".then(bytes => new TextDecoder().decode(bytes))")).isEqualTo("\"acted:player:ann:jump\"");
        assertThat(chromium.evaluateJson("window.clients.ann.client.call('logic.player.fail', '')"
                + ".then(() => 'ok', error => error.code)")).isEqualTo("\"FAILED_PRECONDITION\"");
        assertThat(chromium.evaluateJson("window.clients.ann.client.call('logic.player.secret')"
                + ".then(() => 'ok', error => error.code)")).isEqualTo("\"NOT_FOUND\"");
        push("player:ann", 1, 3);
        awaitPushes("ann", 3);

        proxy.refuse(true);
        proxy.closeAll();
        Await.until(WAIT, "the page to see the drop", () -> eventTypes("ann").contains("disconnected"));
        Await.until(WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);
        push("player:ann", 4, 6); // missed by the page: buffered by the gateway
        proxy.refuse(false);

        Await.until(WAIT, () -> "the page to resume; events " + eval("ann", "events"),
                () -> eventTypes("ann").contains("resumed"));
        assertThat(eval("ann", "events.find(e => e.type === 'resumed').replayed")).isEqualTo("3");
        awaitPushes("ann", 6);
        push("player:ann", 7, 7);
        awaitPushes("ann", 7);
        assertThat(eval("ann", "pushes")).isEqualTo(pushList(1, 7));
        assertThat(chromium.evaluateJson("[...document.getElementById('pushes').children]"
                + ".filter(item => item.textContent.startsWith('ann ')).length")).isEqualTo("7");
        assertThat(eventTypes("ann")).isEqualTo("[\"connected\",\"disconnected\",\"resumed\"]");
        assertThat(eval("ann", "client.stats")).isEqualTo("{\"pushesReceived\":7,\"duplicatesSuppressed\":0,"
                + "\"gaps\":0,\"pushesMissed\":0,\"disconnects\":1,\"resumes\":1,\"relogins\":0}");
        assertThat(chromium.evaluateJson("window.clients.ann.client.call('logic.player.act', 'back')"
                + ".then(bytes => new TextDecoder().decode(bytes))")).isEqualTo("\"acted:player:ann:back\"");
        assertThat(cluster.eventsOf("player:ann")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);

        // Logout: the session ends at once on the gateway (no grace) and the page's client is finished.
        assertThat(chromium.evaluateJson("window.clients.ann.client.logout().then(() => window.clients.ann.client.state)"))
                .isEqualTo("\"finished\"");
        assertThat(eval("ann", "events.map(e => e.type + ' ' + e.detail).at(-1)")).isEqualTo("\"closed logged out\"");
        Await.until(WAIT, "the CLOSED event", () -> cluster.eventsOf("player:ann").size() == 3);
        assertThat(cluster.eventsOf("player:ann").get(2).type()).isEqualTo(SessionEvent.Type.CLOSED);
    }

    /**
     * Makes the page's WebSockets record the text frames they carry in {@code window.wire}
     * ({@code {out, frame}} in the order sent and received), until {@link #untapWebSockets}.
     */
    private void tapWebSockets() {
        chromium.evaluateJson("""
                (() => {
                  const Native = window.nativeWebSocket ?? window.WebSocket;
                  window.nativeWebSocket = Native;
                  window.wire = [];
                  window.WebSocket = class extends Native {
                    constructor(...args) {
                      super(...args);
                      this.addEventListener('message', (message) =>
                          window.wire.push({ out: false, frame: JSON.parse(message.data) }));
                    }
                    send(data) {
                      window.wire.push({ out: true, frame: JSON.parse(data) });
                      super.send(data);
                    }
                  };
                  return true;
                })()""");
    }

    private void untapWebSockets() {
        chromium.evaluateJson("(window.WebSocket = window.nativeWebSocket ?? window.WebSocket, true)");
    }

    @Test
    void afterAResumeThePagePingsAtOnceSoTheTokenItResumedWithStopsWorking() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(Duration.ofSeconds(20)));
        proxy = TcpProxy.to(one.ws());
        tapWebSockets();
        try {
            startClient("dee", "player:dee", proxy.address()); // pingEveryMs: the default 20 s; no calls
            String loginToken = chromium.evaluateJson(
                    "window.wire.find(passed => passed.frame.loginOk).frame.loginOk.resumeToken");
            proxy.closeAll(); // the page resumes at once with the token of its LoginOk
            Await.until(WAIT, () -> "the page to resume; events " + eval("dee", "events"),
                    () -> eventTypes("dee").contains("resumed"));
            String resumedToken = chromium.evaluateJson(
                    "window.wire.find(passed => passed.frame.resumed).frame.resumed.resumeToken");
            chromium.evaluateJson("(window.clients.dee.client.close(), true)"); // no Logout: the grace applies
            Await.until(WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);

            // The token the page resumed with is refused, though the page sent nothing but the Ping.
            try (TestClient thief = TestClient.tcp(one.tcp())) {
                ServerFrame refused = thief.resume(unquote(loginToken), 0);
                assertThat(refused.hasError()).as("a resume with the token the page resumed with: %s", refused)
                        .isTrue();
                assertThat(refused.getError().getCode()).isEqualTo(Code.UNAUTHENTICATED.value());
            }
            assertThat(chromium.evaluateJson("window.wire.filter(passed => passed.out)"
                    + ".map(passed => Object.keys(passed.frame)[0])")).isEqualTo("[\"login\",\"resume\",\"ping\"]");
            // The session is intact: the new token resumes it.
            try (TestClient owner = TestClient.tcp(one.tcp())) {
                ServerFrame back = owner.resume(unquote(resumedToken), 0);
                assertThat(back.hasResumed()).as("a resume with the new token: %s", back).isTrue();
            }
            assertThat(cluster.eventsOf("player:dee")).extracting(SessionEvent::type).containsExactly(
                    SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED, SessionEvent.Type.RESUMED);
        } finally {
            untapWebSockets();
        }
    }

    /** A JSON string's text (resume tokens need no escapes). */
    private static String unquote(String json) {
        assertThat(json).startsWith("\"").endsWith("\"").doesNotContain("\\");
        return json.substring(1, json.length() - 1);
    }

    @Test
    void aPageResumesOnTheOtherGatewayLogsInAfreshAfterTheGraceAndStopsWhenKicked() throws Exception {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(Duration.ofSeconds(20)));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(Duration.ofSeconds(20)));
        GatewayFixture.GatewayNode three = cluster.gateway("gateway-3"); // the fixture's grace: 300 ms
        proxy = TcpProxy.to(one.ws());
        startClient("bob", "player:bob", proxy.address(), two.ws());
        push("player:bob", 1, 2);
        awaitPushes("bob", 2);

        // gateway-1 unreachable: the page resumes on gateway-2 (within the grace) and the sequence goes on.
        proxy.refuse(true);
        proxy.closeAll();
        Await.until(WAIT, () -> "the page to resume; events " + eval("bob", "events"),
                () -> eventTypes("bob").contains("resumed"));
        Await.until(WAIT, "the binding to move", () -> "gateway-2".equals(cluster.boundTo("player:bob")));
        push("player:bob", 3, 3);
        awaitPushes("bob", 3);
        assertThat(eval("bob", "pushes")).isEqualTo(pushList(1, 3));
        assertThat(eval("bob", "client.session.url")).isEqualTo("\"" + wsUrl(two.ws()) + "\"");

        // A page that stays away past the grace logs in afresh: a new session, pushes from 1.
        TcpProxy toThree = TcpProxy.to(three.ws());
        try {
            startClient("cy", "player:cy", toThree.address());
            toThree.refuse(true);
            toThree.closeAll();
            Await.until(WAIT, "cy's session to close on the gateway", () -> cluster.eventsOf("player:cy").stream()
                    .anyMatch(event -> event.type() == SessionEvent.Type.CLOSED));
            toThree.refuse(false);
            Await.until(WAIT, () -> "cy to log in afresh; events " + eval("cy", "events"),
                    () -> eventTypes("cy").contains("relogged"));
            assertThat(eval("cy", "events.find(e => e.type === 'relogged').detail")).contains("NOT_FOUND");
            assertThat(pushWhenReachable("player:cy", "fresh")).isEqualTo(1L);
            awaitPushes("cy", 1);
            assertThat(eval("cy", "pushes")).isEqualTo("[\"1:fresh\"]");
            assertThat(eval("cy", "client.stats.relogins")).isEqualTo("1");
        } finally {
            toThree.close();
        }

        // A second login of bob (a Java bot) kicks the page, which stops.
        try (GatewayClient bot = GatewayClient.builder().addresses(java.util.List.of(one.tcp()))
                .credentials("player:bob".getBytes(StandardCharsets.UTF_8)).build()) {
            bot.connect().join();
            Await.until(WAIT, () -> "bob to be kicked; events " + eval("bob", "events"),
                    () -> eventTypes("bob").contains("kicked"));
            assertThat(eval("bob", "client.state")).isEqualTo("\"finished\"");
            assertThat(chromium.evaluateJson("window.clients.bob.client.call('logic.player.act', 'x')"
                    + ".then(() => 'ok', error => error.code)")).isEqualTo("\"FAILED_PRECONDITION\"");
            assertThat(eventTypes("bob")).isEqualTo("[\"connected\",\"disconnected\",\"resumed\",\"kicked\"]");
            assertThat(new String(bot.call("logic.player.act", "won".getBytes(StandardCharsets.UTF_8)).join(),
                    StandardCharsets.UTF_8)).isEqualTo("acted:player:bob:won");
        }
    }
}
