package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.ChannelOptions;
import io.braid.api.NodeState;
import io.braid.testkit.Await;
import io.braid.testkit.HeadlessChromium;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real browser: Debian's headless Chromium, driven over the DevTools protocol
 * ({@link HeadlessChromium}), loads the page from a live three-node cluster, sees the nodes, the leader,
 * the link counts and a topic's backlog, sees them change as players arrive and messages pile up,
 * drains a node with the page's own button and sees its state change, and saves a screenshot to
 * {@code target/dashboard.png}.
 */
class DashboardBrowserTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void theDashboardShowsTheClusterAndDrainsANode() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                    .withHttp(MonitorOptions.port(0).withRefreshInterval(Duration.ofMillis(300))));
            TestCluster.TestNode logic1 = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
            TestCluster.TestNode logic2 = cluster.start(TestCluster.Spec.of("logic", "logic-2"));
            for (int i = 0; i < 20; i++) {
                gateway.hello("logic", "player-" + i, "p" + i);
            }
            var mailbox = logic1.pubsub.topic("chat.world").subscribe("archive", ChannelOptions.DEFAULT);
            logic2.pubsub.topic("chat.world").subscribe("gateway-1").onMessage(message -> {
            });
            for (int i = 0; i < 5; i++) {
                gateway.pubsub.topic("chat.world").publish(("line " + i).getBytes(StandardCharsets.UTF_8)).join();
            }

            try (HeadlessChromium browser = HeadlessChromium.open("about:blank", 1400, 1100)) {
                browser.navigate(gateway.baseUrl() + "/");
                Await.until(WAIT, "three nodes on the page", () ->
                        Long.valueOf(3).equals(browser.eval("document.querySelectorAll('tr.node').length")));

                // The leader of each service is marked, and only the leader.
                String logicLeader = logic1.elector.isLeader() ? "logic-1" : "logic-2";
                Await.until(WAIT, "the leaders marked", () -> List.of("gateway-1", logicLeader).equals(
                        browser.eval("Array.from(document.querySelectorAll('tr.node[data-leader=\"true\"]'))"
                                + ".map(r => r.dataset.node).sort()")));
                assertThat(browser.eval("document.querySelectorAll('tr.node[data-leader=\"true\"] .star').length"))
                        .isEqualTo(2L);

                // Link counts are the link cache's.
                Await.until(WAIT, "link counts", () -> linksOnPage(browser, "logic-1") == logic1.linkCache.linkCount("logic-1")
                        && linksOnPage(browser, "logic-2") == logic2.linkCache.linkCount("logic-2"));
                assertThat(linksOnPage(browser, "logic-1") + linksOnPage(browser, "logic-2")).isEqualTo(20);

                // The idle channel's backlog, and the running one has none.
                Await.until(WAIT, "the backlog of chat.world/archive", () -> "5".equals(backlogOnPage(browser, "archive")));
                Await.until(WAIT, "the running channel to be empty", () -> "0".equals(backlogOnPage(browser, "gateway-1")));

                // Figures change on the page as the cluster changes: more players, more messages.
                for (int i = 20; i < 30; i++) {
                    gateway.hello("logic", "player-" + i, "p" + i);
                }
                for (int i = 5; i < 8; i++) {
                    gateway.pubsub.topic("chat.world").publish(("line " + i).getBytes(StandardCharsets.UTF_8)).join();
                }
                Await.until(WAIT, "30 links and a backlog of 8", () ->
                        linksOnPage(browser, "logic-1") + linksOnPage(browser, "logic-2") == 30
                                && "8".equals(backlogOnPage(browser, "archive")));
                Await.until(WAIT, "a call chart for logic/hello", () -> Boolean.TRUE.equals(browser.eval(
                        "!!document.querySelector('.method[data-method=\"hello\"] polyline.rate-line')")));

                // A token lookup from the page.
                browser.eval("document.getElementById('lookup-token').value = 'player-3';"
                        + "document.getElementById('lookup').requestSubmit(); true");
                String owner = gateway.linkCache.target("player-3", "logic").orElseThrow();
                Await.until(WAIT, "the lookup's answer", () -> owner.equals(browser.eval(
                        "(document.querySelector('.token-link[data-service=\"logic\"]') || {dataset: {}}).dataset.node")));

                browser.screenshot(Path.of("target", "dashboard-before-drain.png"));

                // Drain logic-2 with the page's button: one click arms it, the second drains.
                browser.eval("document.querySelector('button.drain[data-node=\"logic-2\"]').click(); true");
                assertThat(browser.eval("document.querySelector('button.drain[data-node=\"logic-2\"]').textContent"))
                        .isEqualTo("confirm drain");
                assertThat(logic2.drains).isZero();
                browser.eval("document.querySelector('button.drain[data-node=\"logic-2\"]').click(); true");
                Await.until(WAIT, "logic-2 DRAINING on the page", () -> "DRAINING".equals(browser.eval(
                        "document.querySelector('tr.node[data-node=\"logic-2\"]').dataset.state")));
                assertThat(logic2.drains).isEqualTo(1);
                assertThat(gateway.discover.nodes("logic")).anyMatch(n -> n.id().equals("logic-2")
                        && n.state() == NodeState.DRAINING);
                assertThat(browser.eval("document.querySelector('tr.node[data-node=\"logic-2\"] .badge').textContent"))
                        .isEqualTo("DRAINING");
                assertThat(browser.eval("document.querySelector('tr.node[data-node=\"logic-1\"]').dataset.state"))
                        .isEqualTo("ACTIVE");

                Path screenshot = Path.of("target", "dashboard.png");
                browser.screenshot(screenshot);
                assertThat(Files.size(screenshot)).isGreaterThan(10_000);
                byte[] png = Files.readAllBytes(screenshot);
                assertThat(new String(png, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
            }
            mailbox.close();
        }
    }

    @Test
    void withABearerTokenThePageAsksForItAndThenShowsTheCluster() throws Exception {
        String token = "page-token-0123456789";
        try (TestCluster cluster = new TestCluster()) {
            TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                    .withHttp(MonitorOptions.port(0).withBearerToken(token).withRefreshInterval(Duration.ofMillis(300))));
            try (HeadlessChromium browser = HeadlessChromium.open("about:blank", 1200, 800)) {
                browser.navigate(gateway.baseUrl() + "/");
                Await.until(WAIT, "the token form", () -> Boolean.FALSE.equals(browser.eval(
                        "document.getElementById('auth').classList.contains('hidden')")));
                assertThat(browser.eval("document.querySelectorAll('tr.node').length")).isEqualTo(0L);
                browser.eval("document.getElementById('auth-token').value = '" + token + "';"
                        + "document.getElementById('auth').requestSubmit(); true");
                Await.until(WAIT, "the node on the page", () ->
                        Long.valueOf(1).equals(browser.eval("document.querySelectorAll('tr.node').length")));
                assertThat(browser.eval("document.getElementById('auth').classList.contains('hidden')")).isEqualTo(true);
            }
        }
    }

    private static long linksOnPage(HeadlessChromium browser, String node) {
        Object links = browser.eval("(document.querySelector('tr.node[data-node=\"" + node + "\"] td.links') || "
                + "{dataset: {links: '-1'}}).dataset.links");
        return Long.parseLong(String.valueOf(links));
    }

    private static String backlogOnPage(HeadlessChromium browser, String channel) {
        return String.valueOf(browser.eval("(document.querySelector('tr.channel[data-topic=\"chat.world\"][data-channel=\""
                + channel + "\"] td.backlog') || {}).textContent"));
    }

}
