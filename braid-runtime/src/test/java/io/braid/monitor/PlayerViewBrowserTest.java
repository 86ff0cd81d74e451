package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.PlayerStates;
import io.braid.runtime.Braid;
import io.braid.runtime.Players;
import io.braid.testkit.Await;
import io.braid.testkit.HeadlessChromium;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's player view and timeline in headless Chromium ({@link HeadlessChromium}), on real nodes
 * of the in-memory control plane (in braid-runtime's tests, where nodes with players can be
 * started): a player moved by a rebalance is looked up from the page's search box and shows its
 * owner, link epoch, last calls and its moves with their reasons, and what the gateway's
 * contributor adds; an unknown token says so; the timeline lists the leaders with their epochs
 * and the rebalance's hand-overs, newest first, and its kind filter leaves only that kind; the
 * method charts carry their axes. Screenshots: {@code target/player-view.png},
 * {@code target/timeline.png}.
 */
class PlayerViewBrowserTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));
    private static final int PLAYERS = 6;

    private final io.braid.runtime.InMemoryControlPlane plane =
            io.braid.runtime.InMemoryControlPlane.named("player-view-browser-" + System.nanoTime());
    private final List<Braid> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    private static PlayerStates<long[]> clicks() {
        return new PlayerStates<>() {
            @Override
            public long[] activate(String token, Activation how, byte[] snapshot) {
                return new long[] {snapshot == null ? 0 : ByteBuffer.wrap(snapshot).getLong()};
            }

            @Override
            public byte[] snapshot(long[] state) {
                return ByteBuffer.allocate(Long.BYTES).putLong(state[0]).array();
            }

            @Override
            public void deactivate(long[] state, Deactivation why) {
            }
        };
    }

    private Braid logic(String id) {
        Players<long[]> players = Players.of(clicks()).rebalance(Duration.ofMillis(200), PLAYERS)
                .handle("click", StringValue.parser(), (player, ctx, req) -> Int64Value.of(++player.state()[0]));
        Braid node = Braid.builder().service("logic").nodeId(id).ioThreads(1).inMemory(plane).players(players).start();
        nodes.add(node);
        return node;
    }

    @Test
    void thePlayerViewAndTheTimelineInTheBrowser() throws Exception {
        Braid a = logic("logic-a");
        Braid gateway = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1).inMemory(plane)
                .monitor(MonitorOptions.port(0).withRefreshInterval(Duration.ofMillis(300)))
                .playerViewContributor(token -> token.startsWith("player-") ? Map.of("session", "bound", "since", "12 s")
                        : Map.of())
                .start();
        nodes.add(gateway);
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < PLAYERS; i++) {
            for (int c = 0; c < 3; c++) {
                gateway.invoke("logic", "click", "player-" + i, StringValue.of(""), Int64Value.parser(), TIMEOUT).join();
            }
        }
        Braid b = logic("logic-b");
        Await.until(WAIT, "players moved to logic-b", () -> b.linkCache().linkCount("logic-b") >= PLAYERS / 2 - 1);
        String moved = null;
        for (int i = 0; i < PLAYERS && moved == null; i++) {
            if (b.linkCache().target("player-" + i, "logic").orElse("").equals("logic-b")) {
                moved = "player-" + i;
            }
        }
        String token = moved;
        gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join();
        long epoch = b.linkCache().linkOf(token, "logic").orElseThrow().epoch();

        try (HeadlessChromium browser = HeadlessChromium.open("about:blank", 1400, 1300)) {
            String base = "http://127.0.0.1:" + gateway.monitorAddress().orElseThrow().getPort();
            browser.navigate(base + "/");
            Await.until(WAIT, "the page loaded", () -> Long.valueOf(3).equals(
                    browser.eval("document.querySelectorAll('tr.node').length")));

            // Each logic node's hot players (its lanes' busiest tokens) under its row; one click opens the player.
            Await.until(WAIT, "hot players under a logic node", () -> Boolean.TRUE.equals(browser.eval(
                    "!!document.querySelector('tr.hot[data-node^=\"logic-\"] a.hot-player[data-player^=\"player-\"]')")));
            String hot = (String) browser.eval(
                    "document.querySelector('tr.hot[data-node^=\"logic-\"] a.hot-player').dataset.player");
            browser.eval("document.querySelector('tr.hot a.hot-player[data-player=\"" + hot + "\"]').click(); true");
            Await.until(WAIT, "the hot player's view", () -> ("#player=" + hot).equals(browser.eval("location.hash")));

            // Search box → player page.
            browser.eval("document.getElementById('lookup-token').value = '" + token + "';"
                    + "document.getElementById('lookup').requestSubmit(); true");
            String service = "document.querySelector('#player-view .player-service[data-service=\"logic\"]')";
            Await.until(WAIT, "the player's owner on the page", () -> "logic-b".equals(
                    browser.eval("(" + service + " || {dataset: {}}).dataset.owner")));
            Await.until(WAIT, "the rebalance's move and the activation from it", () -> Boolean.TRUE.equals(browser.eval(
                    "!!document.querySelector('#player-view tr.player-move[data-kind=\"HANDED_OVER\"][data-reason=\"rebalance\"]')"
                            + " && !!document.querySelector('#player-view tr.player-move[data-kind=\"ACTIVATED\"][data-reason=\"HANDOFF\"]')")));
            assertThat((String) browser.eval(service + ".querySelector('.facts').textContent"))
                    .contains("owner" + "logic-b").contains("link epoch" + epoch).contains("active on owneryes, epoch " + epoch)
                    .contains("lane0 waiting");
            assertThat(browser.eval("document.querySelectorAll('#player-view tr.player-call[data-method=\"click\"][data-code=\"OK\"]').length"))
                    .isEqualTo(4L);
            assertThat(browser.eval("document.querySelector('#player-view .contributed[data-node=\"gateway-1\"] "
                    + ".extra[data-key=\"session\"]').textContent")).isEqualTo("sessionbound");
            assertThat(browser.eval("location.hash")).isEqualTo("#player=" + token);
            browser.eval("document.getElementById('player-view').scrollIntoView(); true");
            Path playerShot = Path.of("target", "player-view.png");
            browser.screenshot(playerShot);
            assertPng(playerShot);

            // An unknown token says so.
            browser.eval("document.getElementById('lookup-token').value = 'nobody';"
                    + "document.getElementById('lookup').requestSubmit(); true");
            Await.until(WAIT, "the unknown token's answer", () -> String.valueOf(browser.eval(
                    "(document.querySelector('#player-view[data-known=\"false\"] .unknown') || {}).textContent"))
                    .contains("no service has a link for player 'nobody'"));

            // The timeline: leaders with their epochs, the rebalance's hand-overs, newest first.
            Await.until(WAIT, "leaders and hand-overs on the timeline", () -> Boolean.TRUE.equals(browser.eval(
                    "!!document.querySelector('#timeline tr.event[data-kind=\"LEADER\"][data-node=\"logic-a\"]')"
                            + " && !!document.querySelector('#timeline tr.event[data-kind=\"HANDOFFS\"][data-phase=\"done\"]')"
                            + " && !!document.querySelector('#timeline tr.event[data-kind=\"JOINED\"][data-node=\"logic-b\"]')")));
            assertThat((String) browser.eval("document.querySelector('#timeline tr.event[data-kind=\"LEADER\"][data-node=\"logic-a\"] td.text').textContent"))
                    .contains("logic-a leads logic (epoch " + a.elector().epoch() + ")");
            browser.eval("var k = document.getElementById('timeline-kind'); k.value = 'HANDOFFS';"
                    + "k.dispatchEvent(new Event('change')); true");
            assertThat(browser.eval("Array.from(document.querySelectorAll('#timeline tr.event')).every(r => r.dataset.kind === 'HANDOFFS')"))
                    .isEqualTo(true);
            browser.eval("var k = document.getElementById('timeline-kind'); k.value = '';"
                    + "k.dispatchEvent(new Event('change')); true");

            // The call charts carry their axes: time on x, calls/s and p99 ms on y.
            Await.until(WAIT, "a chart with its axes", () -> Boolean.TRUE.equals(browser.eval(
                    "!!document.querySelector('.method[data-method=\"click\"] polyline.rate-line')")));
            assertThat(browser.eval("document.querySelectorAll('.method[data-method=\"click\"] svg .x-time').length"))
                    .isEqualTo(3L);
            assertThat(browser.eval("Array.from(document.querySelectorAll('.method[data-method=\"click\"] svg .y-title'))"
                    + ".map(t => t.textContent).join('|')")).isEqualTo("calls/s (solid)|p99 ms (dashed)");

            browser.eval("document.getElementById('player-close').click();"
                    + "document.querySelector('#timeline').scrollIntoView(); true");
            Path timelineShot = Path.of("target", "timeline.png");
            browser.screenshot(timelineShot);
            assertPng(timelineShot);
        }
    }

    private static void assertPng(Path file) throws Exception {
        assertThat(Files.size(file)).isGreaterThan(10_000);
        assertThat(new String(Files.readAllBytes(file), 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }
}
