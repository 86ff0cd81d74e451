package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.examples.gateway.GatewayService;
import io.braid.examples.gateway.PageServer;
import io.braid.examples.logic.LogicService;
import io.braid.examples.proto.ChatLine;
import io.braid.examples.proto.PlayerPush;
import io.braid.testkit.Await;
import io.braid.testkit.HeadlessChromium;
import io.braid.testkit.TcpProxy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A person's view: headless Chromium opens the player page, logs in (braid-gateway's browser client
 * over WebSocket, through a proxy the test can cut), presses the button that calls the logic node,
 * and sees which node answered, a chat line, and the reward that the logic node pushed. Then the
 * connection under the page drops (the proxy cuts it and refuses new ones); three pushes are sent
 * to the player meanwhile; when the network is back the page resumes its session by itself and
 * shows exactly those three, marked as missed, and plays on with the same logic node. The
 * screenshot lands in target/player-page.png.
 */
class PlayerPageBrowserTest {
    static final Duration WITHIN = Duration.ofSeconds(15);

    @Test
    void aPlayerPlaysLosesTheConnectionAndThePageResumesWithThePushesItMissed() throws Exception {
        boolean ci = System.getenv("CI") != null;
        if (!HeadlessChromium.installed()) {
            assertThat(ci).as(HeadlessChromium.BINARY + " is missing on CI: install Debian's chromium package").isFalse();
            Assumptions.abort(HeadlessChromium.BINARY + " is not installed (apt-get install chromium)");
        }
        try (Demo demo = Demo.start(Demo.Options.inMemory(1, Duration.ofSeconds(1)).withRewardAfter(Duration.ofSeconds(1)));
             TcpProxy proxy = TcpProxy.to("127.0.0.1", demo.gateways().getFirst().port());
             PageServer page = PageServer.start(demo.logic().getFirst().braid(), "127.0.0.1", 0,
                     () -> List.of(URI.create("ws://127.0.0.1:" + proxy.port() + "/ws")));
             HeadlessChromium chromium = HeadlessChromium.open(page.url())) {
            Await.until(WITHIN, () -> "the page's script runs; chromium log:\n" + chromium.log(),
                    () -> chromium.evaluate("window.demo && window.demo.ready").equals("true"));

            chromium.evaluate("$('name').value = 'ann', $('login').click()");
            Await.until(WITHIN, () -> "the login answer; status: " + safe(chromium, "$('status').textContent")
                    + "\nchromium log:\n" + chromium.log(), () -> status(chromium).equals("logged in as ann"));
            String node = chromium.evaluate("$('node').textContent");
            LogicService owner = demo.logic().stream().filter(l -> l.tokensServed().contains("player:ann")).findFirst()
                    .orElseThrow(() -> new AssertionError("no logic node served ann"));
            assertThat(node).as("the node the page shows is the one holding ann").isEqualTo(owner.nodeId());

            chromium.evaluate("$('click').click()");
            Await.until(WITHIN, () -> "the click's answer: " + safe(chromium, "$('served').textContent"),
                    () -> chromium.evaluate("$('served').textContent").contains("counter 1"));
            chromium.evaluate("$('click').click()");
            Await.until(WITHIN, () -> "the second click's answer: " + safe(chromium, "$('served').textContent"),
                    () -> chromium.evaluate("$('served').textContent").contains("counter 2"));
            assertThat(chromium.evaluate("$('node').textContent")).as("sticky: the same node again").isEqualTo(node);

            chromium.evaluate("$('chat-text').value = 'hello from chromium', $('send').click()");
            Await.until(WITHIN, () -> "the chat line comes back through the world topic and a push; chat: "
                    + safe(chromium, "$('chat').textContent"),
                    () -> chromium.evaluate("$('chat').textContent").contains("ann (via gateway-1): hello from chromium"));
            Await.until(WITHIN, () -> "the reward pushed by " + node + "; reward: " + safe(chromium, "$('reward').textContent"),
                    () -> chromium.evaluate("$('reward').textContent").startsWith("Reward pushed by " + node));
            Await.until(WITHIN, () -> "the logic nodes' stats on the page, ann online on " + node + ": "
                    + safe(chromium, "$('nodes').textContent"), () -> chromium.evaluate("$('nodes').rows.length").equals("4")
                    && chromium.evaluate("[...$('nodes').rows].some(r => r.cells[0].textContent === '" + node
                    + "' && r.cells[1].textContent === '1')").equals("true"));
            int pushesBefore = Integer.parseInt(chromium.evaluate("window.demo.pushes.length"));
            assertThat(pushesBefore).as("the chat line and the reward").isEqualTo(2);

            // The network under the page drops; the gateway keeps the session (DETACHED) for its grace.
            proxy.refuse(true);
            proxy.closeAll();
            Await.until(WITHIN, () -> "the page notices; status: " + status(chromium),
                    () -> status(chromium).startsWith("connection lost"));
            PlayerPusher pusher = new PlayerPusher(owner.braid());
            List<Long> seqs = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                seqs.add(pushUntilAccepted(pusher, "missed " + i));
            }
            assertThat(seqs).as("numbered on in the session").containsExactly(3L, 4L, 5L);

            proxy.refuse(false);
            Await.until(WITHIN, () -> "the page resumes by itself; status: " + status(chromium)
                    + "; events " + safe(chromium, "JSON.stringify(window.demo.events)"),
                    () -> status(chromium).equals("resumed; 3 missed pushes replayed"));
            Await.until(WITHIN, () -> "the three missed pushes shown: " + safe(chromium, "$('pushes').textContent"),
                    () -> chromium.evaluate("window.demo.pushes.length").equals("5"));
            assertThat(chromium.evaluate("JSON.stringify(window.demo.pushes.slice(2).map(p => [p.seq, p.replayed, p.what]))"))
                    .isEqualTo("[[3,true,\"ann (via test): missed 1\"],[4,true,\"ann (via test): missed 2\"],"
                            + "[5,true,\"ann (via test): missed 3\"]]");
            assertThat(chromium.evaluate("$('pushes').textContent")).contains("#3 ann (via test): missed 1 · missed, replayed");
            assertThat(chromium.evaluate("JSON.stringify(window.demo.events.map(e => e.type))"))
                    .isEqualTo("[\"connected\",\"disconnected\",\"resumed\"]");

            chromium.evaluate("$('click').click()");
            Await.until(WITHIN, () -> "a click after the resume: " + safe(chromium, "$('served').textContent"),
                    () -> chromium.evaluate("$('served').textContent").contains("counter 3"));
            assertThat(chromium.evaluate("$('node').textContent")).as("the same logic node, the same state").isEqualTo(node);
            assertThat(chromium.evaluate("$('session').textContent")).contains("resumed 1").contains("logged in afresh 0");

            Path screenshot = Path.of("target", "player-page.png");
            chromium.screenshot(screenshot);
            assertThat(Files.size(screenshot)).isGreaterThan(1000);
        }
    }

    /** Pushes a chat line to ann; asks again while the gateway says UNAVAILABLE (its session moving). */
    private static long pushUntilAccepted(PlayerPusher pusher, String text) {
        long deadline = System.nanoTime() + WITHIN.toNanos();
        while (true) {
            try {
                return pusher.push(GatewayService.token("ann"), PlayerPush.newBuilder().setChat(
                        ChatLine.newBuilder().setFrom("ann").setVia("test").setText(text))).join();
            } catch (CompletionException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L); // asking again, as GatewayPush says
            }
        }
    }

    private static String status(HeadlessChromium chromium) {
        return chromium.evaluate("$('status').textContent");
    }

    private static String safe(HeadlessChromium chromium, String expression) {
        try {
            return chromium.evaluate(expression);
        } catch (RuntimeException e) {
            return "(" + e.getMessage() + ")";
        }
    }
}
