package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.examples.logic.LogicService;
import io.braid.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A person's view: headless Chromium opens the gateway's player page, logs in, presses the button
 * that calls the logic node, and sees which node answered, a chat line, and the reward that the
 * logic node pushed through the gateway. The screenshot lands in target/player-page.png.
 */
class PlayerPageBrowserTest {
    static final Duration WITHIN = Duration.ofSeconds(15);

    @Test
    void aPlayerLogsInClicksAndSeesTheirLogicNodeTheChatAndTheirReward() throws Exception {
        boolean ci = System.getenv("CI") != null;
        if (!HeadlessChromium.installed()) {
            assertThat(ci).as(HeadlessChromium.BINARY + " is missing on CI: install Debian's chromium package").isFalse();
            Assumptions.abort(HeadlessChromium.BINARY + " is not installed (apt-get install chromium)");
        }
        try (Demo demo = Demo.start(Demo.Options.inMemory(1, Duration.ofSeconds(1)).withRewardAfter(Duration.ofSeconds(1)));
             HeadlessChromium chromium = HeadlessChromium.open(demo.pageUrl())) {
            Await.until(WITHIN, () -> "the page connects its WebSocket; status: " + safe(chromium, "$('status').textContent")
                    + "\nchromium log:\n" + chromium.log(), () -> chromium.evaluate("$('status').textContent").equals("connected"));

            chromium.evaluate("$('name').value = 'ann', $('login').click()");
            Await.until(WITHIN, () -> "the login answer; status: " + safe(chromium, "$('status').textContent"),
                    () -> chromium.evaluate("$('status').textContent").equals("logged in as ann"));
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
            Await.until(WITHIN, () -> "the chat line comes back through the world topic; chat: "
                    + safe(chromium, "$('chat').textContent"),
                    () -> chromium.evaluate("$('chat').textContent").contains("ann (via gateway-1): hello from chromium"));

            Await.until(WITHIN, () -> "the reward pushed by " + node + "; reward: " + safe(chromium, "$('reward').textContent"),
                    () -> chromium.evaluate("$('reward').textContent").startsWith("Reward pushed by " + node));
            Await.until(WITHIN, () -> "the logic nodes' stats on the page, ann online on " + node + ": "
                    + safe(chromium, "$('nodes').textContent"), () -> chromium.evaluate("$('nodes').rows.length").equals("4")
                    && chromium.evaluate("[...$('nodes').rows].some(r => r.cells[0].textContent === '" + node
                    + "' && r.cells[1].textContent === '1')").equals("true"));

            Path screenshot = Path.of("target", "player-page.png");
            chromium.screenshot(screenshot);
            assertThat(Files.size(screenshot)).isGreaterThan(1000);
        }
    }

    private static String safe(HeadlessChromium chromium, String expression) {
        try {
            return chromium.evaluate(expression);
        } catch (RuntimeException e) {
            return "(" + e.getMessage() + ")";
        }
    }
}
