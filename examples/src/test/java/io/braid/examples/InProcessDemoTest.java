package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.examples.bots.BotsReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code ./demo} in short: one JVM, the in-memory control plane, 20 bots for 5 seconds. */
class InProcessDemoTest {
    @Test
    void everyPlayerIsServedByExactlyOneLogicNodeAndChatAndRewardsReachThePlayers() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Demo.Summary summary;
        try (Demo demo = Demo.start(Demo.Options.inMemory(20, Duration.ofSeconds(5)).withRewardAfter(Duration.ofSeconds(1)))) {
            summary = demo.run(new PrintStream(printed, true, StandardCharsets.UTF_8), Duration.ofSeconds(1));
        }
        String output = printed.toString(StandardCharsets.UTF_8);
        System.out.println(output);

        BotsReport bots = summary.bots();
        assertThat(summary.passed()).as(output).isTrue();
        assertThat(bots.loggedIn()).isEqualTo(20);
        assertThat(bots.errors()).as("failed calls").isEmpty();
        assertThat(bots.playersPerNode()).as("three logic nodes share the players").hasSize(3);
        assertThat(bots.playersPerNode().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(20);
        assertThat(summary.servedPerNode()).containsAllEntriesOf(bots.playersPerNode());
        assertThat(summary.onSeveralNodes()).isEmpty();
        assertThat(bots.chatSent()).as("chat lines sent").isPositive();
        assertThat(bots.chatReceived()).as("chat lines delivered to players").isGreaterThanOrEqualTo(bots.chatSent());
        assertThat(bots.rewards()).as("rewards pushed by logic through the gateway").isEqualTo(20);
        assertThat(bots.p99Millis()).isPositive();
        assertThat(output).contains("players online").contains("calls/s").contains("player page: http://127.0.0.1:")
                .contains("check: every player served by exactly one logic node: PASS").contains("RESULT: PASS");
    }
}
