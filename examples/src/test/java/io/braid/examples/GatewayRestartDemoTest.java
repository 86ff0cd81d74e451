package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.examples.bots.BotsReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import io.braid.testkit.RedisExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code ./demo --gateways 2 --restart-gateway} in short: one JVM, the in-memory control plane (and
 * then one real {@code redis-server}), two
 * gateways, 20 bots for 8 s; at 4 s gateway-1 crashes ({@code GatewayService.crash()}: connections
 * dropped, nothing cleaned up) and gateway-3 takes its port. Its players' sessions must resume on
 * gateway-2 or gateway-3 with every push the gateways accepted received exactly once, and no logic
 * node may log out a resumed player.
 */
class GatewayRestartDemoTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Test
    void aCrashedGatewaysPlayersResumeElsewhereWithNoPushLostOrDoubled() throws Exception {
        crashAndResume(Demo.Options.inMemory(20, Duration.ofSeconds(8)));
    }

    @Test
    void theSameOnRedis() throws Exception {
        crashAndResume(Demo.Options.inMemory(20, Duration.ofSeconds(8)).withRedis(redis.server().uri()));
    }

    private static void crashAndResume(Demo.Options options) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Demo.Summary summary;
        try (Demo demo = Demo.start(options.withRewardAfter(Duration.ofSeconds(4)).withGateways(2, true))) {
            summary = demo.run(new PrintStream(printed, true, StandardCharsets.UTF_8), Duration.ofSeconds(1));
        }
        String output = printed.toString(StandardCharsets.UTF_8);
        System.out.println(output);

        Demo.Sessions sessions = summary.sessions();
        BotsReport bots = summary.bots();
        assertThat(sessions.gateways()).as(output).containsExactly("gateway-1", "gateway-2", "gateway-3");
        assertThat(sessions.restart()).as(output).isNotNull();
        assertThat(sessions.restart().crashed()).isEqualTo("gateway-1");
        assertThat(sessions.restart().replacement()).isEqualTo("gateway-3");
        assertThat(sessions.restart().samePort()).as(output).isTrue();
        assertThat(sessions.restart().playersThere()).as("the bots spread over both gateways (it crashes once all are"
                + " online)").isEqualTo(10);
        assertThat(bots.loggedIn()).isEqualTo(20);
        assertThat(sessions.pushesSent()).as(output).isPositive();
        // The promise: the crashed gateway's players resume (not log in afresh), and every push
        // accepted for them reaches them exactly once. A gateway that keeps its sessions only in its
        // own memory breaks it: its players log in afresh and the pushes it held are lost.
        assertThat(sessions.relogins()).as("sessions lost with the crashed gateway (logged in afresh)\n" + output)
                .isZero();
        assertThat(sessions.resumed()).as(output).isGreaterThanOrEqualTo(sessions.restart().playersThere());
        assertThat(sessions.pushesLost()).as(output).isZero();
        // A push refused while its player's session moves (UNAVAILABLE) or left unanswered is asked
        // again with its push id until the player is back: none is refused for that, and none the
        // pusher gave up on arrives anyway.
        assertThat(sessions.pushesRefused()).as(output).doesNotContainKeys("UNAVAILABLE", "DEADLINE_EXCEEDED");
        assertThat(sessions.receivedThoughRefused()).as(output).isZero();
        assertThat(sessions.pushesReceived()).as(output).isEqualTo(sessions.pushesSent());
        assertThat(sessions.duplicatePushes()).as(output).isZero();
        assertThat(sessions.resumedPlayersLoggedOut()).as(output).isZero();
        assertThat(bots.clicksLost()).as(output).isZero();
        assertThat(summary.passed()).as(output).isTrue();
        assertThat(output).contains("gateway restart: gateway-1 crashed at 4 s").contains("sessions resumed")
                .contains("check: pushes lost 0: PASS").contains("check: duplicate pushes 0: PASS")
                .contains("check: logouts of resumed players 0: PASS").contains("RESULT: PASS");
    }

    @Test
    void theFlagsAndTheirVariablesSetTheGatewaysAndTheRestart() {
        Demo.Options flags = Demo.options(Settings.parse("demo", Demo.SETTINGS,
                new String[] {"--gateways", "2", "--restart-gateway"}, Map.of()));
        assertThat(flags.gateways()).isEqualTo(2);
        assertThat(flags.restartGateway()).isTrue();
        Demo.Options variables = Demo.options(Settings.parse("demo", Demo.SETTINGS, new String[0],
                Map.of("DEMO_GATEWAYS", "3", "DEMO_RESTART_GATEWAY", "true")));
        assertThat(variables.gateways()).isEqualTo(3);
        assertThat(variables.restartGateway()).isTrue();
        Demo.Options none = Demo.options(Settings.parse("demo", Demo.SETTINGS, new String[0], Map.of()));
        assertThat(none.gateways()).isEqualTo(1);
        assertThat(none.restartGateway()).isFalse();
        assertThat(Settings.usage(Demo.SETTINGS)).contains("--gateways").contains("--restart-gateway")
                .contains("--page-port");
    }
}
