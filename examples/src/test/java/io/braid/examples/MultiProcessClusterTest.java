package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.examples.bots.BotsReport;
import io.braid.testkit.RedisExtension;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * The cluster as separate processes on a real redis-server: three logic JVMs, a chat JVM, a
 * gateway JVM and a bots JVM, each started through {@link Main} like the containers of
 * docker-compose.yml. One logic JVM is killed with -9 while the bots play: its players must be
 * served again by the survivors, and every other player must stay on its one node. Then everything
 * stops, and no process is left behind.
 */
class MultiProcessClusterTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    static final int PLAYERS = 30;
    static final String VICTIM = "logic-2";
    static final Pattern WEBSOCKET = Pattern.compile("websocket (ws://127\\.0\\.0\\.1:\\d+/ws)");
    static final Pattern CHAT = Pattern.compile("chat: (\\d+) lines sent, (\\d+) deliveries to players");

    private final Deque<ChildJvm> children = new ArrayDeque<>();

    @AfterEach
    void noProcessLeftBehind() throws Exception {
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
    void killedLogicNodesPlayersAreServedAgainBySurvivorsAndTheRestStayPut() throws Exception {
        Map<String, String> node = Map.of("BRAID_REDIS_URI", redis.server().uri(), "BRAID_DRAIN_SECONDS", "5",
                "LOGIC_REWARD_SECONDS", "1");
        List<ChildJvm> logic = new ArrayList<>();
        for (String id : List.of("logic-1", "logic-2", "logic-3")) {
            logic.add(start(id, "logic", List.of("--node-id", id), node));
        }
        ChildJvm chat = start("chat-1", "chat", List.of(), Map.of("BRAID_REDIS_URI", redis.server().uri(), "BRAID_NODE_ID", "chat-1"));
        ChildJvm gateway = start("gateway-1", "gateway", List.of("--node-id", "gateway-1"),
                Map.of("BRAID_REDIS_URI", redis.server().uri(), "GATEWAY_HTTP_PORT", "0", "GATEWAY_PAGE_PORT", "0"));
        for (ChildJvm child : logic) {
            child.awaitLine(Duration.ofSeconds(60), "ready", l -> l.startsWith("ready: logic"));
        }
        chat.awaitLine(Duration.ofSeconds(60), "ready", l -> l.startsWith("ready: chat"));
        Matcher webSocket = WEBSOCKET.matcher(gateway.awaitLine(Duration.ofSeconds(60), "ready",
                l -> l.startsWith("ready: gateway")));
        assertThat(webSocket.find()).isTrue();

        Path report = Files.createTempFile(Path.of("target"), "bots-report-", ".tsv");
        ChildJvm bots = start("bots", "bots", List.of("--gateway", webSocket.group(1)),
                Map.of("BOTS_PLAYERS", Integer.toString(PLAYERS), "BOTS_SECONDS", "16", "BOTS_THINK_MILLIS", "50",
                        "BOTS_CHAT_PERCENT", "3", "BOTS_PROGRESS_SECONDS", "1", "BOTS_REPORT", report.toString(),
                        "BOTS_NAME_PREFIX", "bot"));
        bots.awaitLine(Duration.ofSeconds(20), "every player online",
                l -> l.contains("players online " + PLAYERS + "/" + PLAYERS));
        int linesAtFullHouse = bots.lines().size();
        bots.awaitLine(Duration.ofSeconds(10), "two more progress lines",
                l -> bots.lines().indexOf(l) >= linesAtFullHouse + 2);

        ChildJvm victim = logic.get(1);
        victim.kill();
        assertThat(victim.process().isAlive()).isFalse();

        assertThat(bots.process().waitFor(40, TimeUnit.SECONDS)).as("bots finish").isTrue();
        bots.awaitOutputEnd(Duration.ofSeconds(5));
        System.out.println(String.join("\n", bots.lines()));

        Map<String, List<String>> nodesByPlayer = BotsReport.readNodes(report);
        assertThat(nodesByPlayer).hasSize(PLAYERS);
        List<String> victims = nodesByPlayer.entrySet().stream().filter(e -> e.getValue().get(0).equals(VICTIM))
                .map(Map.Entry::getKey).toList();
        assertThat(victims).as("equal weights: the victim held about a third of the players").hasSizeBetween(5, 15);
        System.out.println("the killed node's players went to: " + victims.stream().map(p -> nodesByPlayer.get(p).get(1))
                .collect(java.util.stream.Collectors.groupingBy(n -> n, java.util.TreeMap::new, java.util.stream.Collectors.counting())));
        nodesByPlayer.forEach((player, nodes) -> {
            if (victims.contains(player)) {
                assertThat(nodes).as("%s was on the killed node, then on a survivor", player).hasSize(2);
                assertThat(nodes.get(1)).isIn("logic-1", "logic-3");
            } else {
                assertThat(nodes).as("%s stays on its one logic node", player).hasSize(1).doesNotContain(VICTIM);
            }
        });
        Matcher chatLine = CHAT.matcher(String.join("\n", bots.lines()));
        assertThat(chatLine.find()).as("the bots' summary has a chat line").isTrue();
        assertThat(Long.parseLong(chatLine.group(1))).as("chat lines sent").isPositive();
        assertThat(Long.parseLong(chatLine.group(2))).as("chat lines delivered to players").isPositive();

        for (ChildJvm child : List.of(gateway, chat, logic.get(0), logic.get(2))) {
            assertThat(child.stop(Duration.ofSeconds(15))).as("%s stops when its stdin closes", child.name()).isTrue();
            assertThat(child.process().exitValue()).as("%s exit code", child.name()).isZero();
        }
        Files.deleteIfExists(report);
    }
}
