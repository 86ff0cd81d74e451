package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.examples.bots.BotsReport;
import io.braid.examples.logic.LogicService;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code ./demo} in short: one JVM, the in-memory control plane, one gateway, 20 bots for 5 seconds:
 * every player on one logic node, every push (rewards, chat lines) received exactly once.
 */
class InProcessDemoTest {
    @Test
    void everyPlayerIsServedByExactlyOneLogicNodeAndChatAndRewardsReachThePlayers() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Demo.Summary summary;
        Demo demo = Demo.start(Demo.Options.inMemory(20, Duration.ofSeconds(5)).withRewardAfter(Duration.ofSeconds(1)));
        try (demo) {
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
        // A reward comes 1 s after a player's login: on a loaded machine some players log in too late
        // for theirs; each one the logic nodes pushed must have arrived, though.
        long rewardsPushed = demo.logic().stream().mapToLong(LogicService::rewardsPushed).sum();
        assertThat(bots.rewards()).as("rewards pushed by logic through the gateway").isPositive()
                .isEqualTo(rewardsPushed).isLessThanOrEqualTo(20);
        assertThat(bots.p99Millis()).isPositive();

        Demo.Sessions sessions = summary.sessions();
        assertThat(sessions.gateways()).containsExactly("gateway-1");
        assertThat(sessions.restart()).isNull();
        assertThat(sessions.pushesSent()).as("rewards and chat lines pushed").isPositive();
        assertThat(sessions.pushesReceived()).as("the rewards and chat lines the players got, each once")
                .isEqualTo(bots.rewards() + bots.chatReceived())
                .as("every push accepted reached its player (and some that timed out at their pusher)")
                .isEqualTo(sessions.pushesSent() + sessions.receivedThoughRefused());
        assertThat(sessions.pushesLost()).isZero();
        assertThat(sessions.duplicatePushes()).isZero();
        assertThat(sessions.relogins()).isZero();
        assertThat(sessions.resumedPlayersLoggedOut()).isZero();
        assertThat(sessions.passed()).isTrue();
        assertThat(output).contains("players online").contains("calls/s").contains("player page: http://127.0.0.1:")
                .contains("check: every player served by exactly one logic node: PASS")
                .contains("check: pushes lost 0: PASS").contains("check: duplicate pushes 0: PASS")
                .contains("check: logouts of resumed players 0: PASS").contains("RESULT: PASS");
    }
}
