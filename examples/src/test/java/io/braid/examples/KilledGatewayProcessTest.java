package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway's process killed with -9 while the bots play, on a real redis-server: two logic JVMs,
 * a chat JVM, two gateway JVMs and a bots JVM (each bot knows both gateways, half start on each).
 * The killed gateway's players must resume their sessions on the other gateway (none logs in
 * afresh), with no push received twice and no gap in any session's push numbers. Then
 * everything stops, and no process is left behind.
 */
class KilledGatewayProcessTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    static final int PLAYERS = 20;
    static final Pattern WEBSOCKET = Pattern.compile("websocket (ws://127\\.0\\.0\\.1:\\d+/ws)");
    static final Pattern SESSIONS = Pattern.compile("sessions: (\\d+) resumed, (\\d+) logged in afresh; pushes received "
            + "(\\d+), received twice (\\d+) \\(and (\\d+) dropped by the clients as repeats\\), sequence gaps (\\d+)");

    private final Deque<ChildJvm> children = new ArrayDeque<>();

    @AfterEach
    void noProcessLeftBehind() {
        List<ProcessHandle> all = new ArrayList<>();
        for (ChildJvm child : children) {
            all.add(child.process().toHandle());
            child.process().toHandle().descendants().forEach(all::add);
        }
        while (!children.isEmpty()) {
            children.pop().close();
        }
        assertThat(all).as("child processes still alive").noneMatch(ProcessHandle::isAlive);
    }

    private ChildJvm start(String name, String command, List<String> args, Map<String, String> env) throws Exception {
        ChildJvm child = ChildJvm.start(name, command, args, env, true);
        children.push(child);
        return child;
    }

    @Test
    void aKilledGatewaysPlayersResumeOnTheOther() throws Exception {
        Map<String, String> node = Map.of("BRAID_REDIS_URI", redis.server().uri(), "BRAID_DRAIN_SECONDS", "5",
                "LOGIC_REWARD_SECONDS", "1");
        List<ChildJvm> logic = new ArrayList<>();
        for (String id : List.of("logic-1", "logic-2")) {
            logic.add(start(id, "logic", List.of("--node-id", id), node));
        }
        ChildJvm chat = start("chat-1", "chat", List.of(), Map.of("BRAID_REDIS_URI", redis.server().uri(),
                "BRAID_NODE_ID", "chat-1"));
        List<ChildJvm> gateways = new ArrayList<>();
        List<String> urls = new ArrayList<>();
        for (String id : List.of("gateway-1", "gateway-2")) {
            gateways.add(start(id, "gateway", List.of("--node-id", id), Map.of("BRAID_REDIS_URI", redis.server().uri(),
                    "GATEWAY_HTTP_PORT", "0", "GATEWAY_PAGE_PORT", "0")));
        }
        for (ChildJvm child : logic) {
            child.awaitLine(Duration.ofSeconds(60), "ready", l -> l.startsWith("ready: logic"));
        }
        chat.awaitLine(Duration.ofSeconds(60), "ready", l -> l.startsWith("ready: chat"));
        for (ChildJvm gateway : gateways) {
            Matcher url = WEBSOCKET.matcher(gateway.awaitLine(Duration.ofSeconds(60), "ready",
                    l -> l.startsWith("ready: gateway")));
            assertThat(url.find()).isTrue();
            urls.add(url.group(1));
        }

        ChildJvm bots = start("bots", "bots", List.of("--gateway", String.join(",", urls)),
                Map.of("BOTS_PLAYERS", Integer.toString(PLAYERS), "BOTS_SECONDS", "16", "BOTS_THINK_MILLIS", "50",
                        "BOTS_CHAT_PERCENT", "3", "BOTS_PROGRESS_SECONDS", "1", "BOTS_NAME_PREFIX", "bot"));
        bots.awaitLine(Duration.ofSeconds(30), "every player online",
                l -> l.contains("players online " + PLAYERS + "/" + PLAYERS));
        int linesAtFullHouse = bots.lines().size();
        bots.awaitLine(Duration.ofSeconds(10), "two more progress lines",
                l -> bots.lines().indexOf(l) >= linesAtFullHouse + 2);

        ChildJvm victim = gateways.get(0);
        victim.kill();
        assertThat(victim.process().isAlive()).isFalse();

        assertThat(bots.process().waitFor(60, TimeUnit.SECONDS)).as("bots finish").isTrue();
        bots.awaitOutputEnd(Duration.ofSeconds(5));
        String output = String.join("\n", bots.lines());
        System.out.println(output);

        Matcher sessions = SESSIONS.matcher(output);
        assertThat(sessions.find()).as("the bots' summary has a sessions line\n" + output).isTrue();
        assertThat(Long.parseLong(sessions.group(1))).as("sessions resumed: the killed gateway's half\n" + output)
                .isEqualTo(PLAYERS / 2);
        assertThat(Long.parseLong(sessions.group(2))).as("sessions lost (logged in afresh)\n" + output).isZero();
        assertThat(Long.parseLong(sessions.group(3))).as("pushes received").isPositive();
        assertThat(Long.parseLong(sessions.group(4))).as("pushes received twice").isZero();
        assertThat(Long.parseLong(sessions.group(6))).as("gaps in a session's pushes").isZero();
        assertThat(output).contains("players: " + PLAYERS + " simulated, " + PLAYERS + " logged in");

        for (ChildJvm child : List.of(gateways.get(1), chat, logic.get(0), logic.get(1))) {
            assertThat(child.stop(Duration.ofSeconds(15))).as("%s stops when its stdin closes", child.name()).isTrue();
            assertThat(child.process().exitValue()).as("%s exit code", child.name()).isZero();
        }
    }
}
