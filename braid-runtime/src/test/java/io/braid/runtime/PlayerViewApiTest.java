package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.PlayerStates;
import io.braid.monitor.MonitorJson;
import io.braid.monitor.MonitorOptions;
import io.braid.testkit.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor's {@code /api/players/{token}} and {@code /api/timeline} against real nodes of the
 * in-memory control plane, asked over HTTP from the gateway's monitor: a player moved by a
 * rebalance shows the move and its reason on both nodes, an unknown token says so, a drain shows on
 * the timeline with its hand-overs' progress (after the drained node is gone), and a leader
 * change shows its epoch. (Redis lost and back: {@code RedisTimelineTest}.)
 */
class PlayerViewApiTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int PLAYERS = 8;

    private final InMemoryControlPlane plane = new InMemoryControlPlane("player-view-" + System.nanoTime());
    private final List<Braid> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    /** A player's clicks; its snapshot is the count. */
    static PlayerStates<long[]> clicks() {
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

    private Braid logic(String id, UnaryOperator<Players<long[]>> settings) {
        Players<long[]> players = settings.apply(Players.of(clicks()))
                .handle("click", StringValue.parser(), (player, ctx, req) -> Int64Value.of(++player.state()[0]));
        Braid node = Braid.builder().service("logic").nodeId(id).ioThreads(1).inMemory(plane).players(players)
                .drainTimeout(Duration.ofSeconds(30)).start();
        nodes.add(node);
        return node;
    }

    private Braid gateway() {
        Braid node = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1).inMemory(plane)
                .monitor(MonitorOptions.port(0)).start();
        nodes.add(node);
        return node;
    }

    private static long click(Braid gateway, String token) {
        return gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join()
                .getValue();
    }

    static Map<String, Object> get(Braid monitor, String path) {
        String url = "http://127.0.0.1:" + monitor.monitorAddress().orElseThrow().getPort() + path;
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
            return MonitorJson.parseObject(response.body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> service(Map<String, Object> player, String name) {
        return MonitorJson.list(player.get("services")).stream().filter(s -> name.equals(s.get("service")))
                .findFirst().orElse(null);
    }

    static List<Map<String, Object>> events(Braid monitor, String query) {
        return MonitorJson.list(get(monitor, "/api/timeline" + query).get("events"));
    }

    @Test
    void aPlayerMovedByARebalanceShowsItsMoveWithTheReasonOnBothNodes() {
        UnaryOperator<Players<long[]>> rebalancing = players -> players.rebalance(Duration.ofMillis(200), PLAYERS);
        Braid a = logic("logic-a", rebalancing);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < PLAYERS; i++) {
            click(gateway, "player-" + i);
            click(gateway, "player-" + i);
        }
        Braid b = logic("logic-b", rebalancing);
        Await.until(WAIT, "a player moved to logic-b", () -> b.linkCache().linkCount("logic-b") > 0);
        String moved = null;
        for (int i = 0; i < PLAYERS && moved == null; i++) {
            if (b.linkCache().target("player-" + i, "logic").orElse("").equals("logic-b")) {
                moved = "player-" + i;
            }
        }
        String token = moved;
        assertThat(click(gateway, token)).as("its state came along").isEqualTo(3);

        Map<String, Object>[] seen = new Map[1];
        Await.until(WAIT, "the player view shows the move on both nodes and the call on logic-b", () -> {
            Map<String, Object> logic = service(get(gateway, "/api/players/" + token), "logic");
            seen[0] = logic;
            List<Map<String, Object>> moves = MonitorJson.list(logic.get("moves"));
            return moves.stream().anyMatch(m -> "HANDED_OVER".equals(m.get("kind")) && "rebalance".equals(m.get("reason"))
                            && "logic-a".equals(m.get("node")))
                    && moves.stream().anyMatch(m -> "DEACTIVATED".equals(m.get("kind")) && "MOVED".equals(m.get("reason")))
                    && moves.stream().anyMatch(m -> "ACTIVATED".equals(m.get("kind")) && "HANDOFF".equals(m.get("reason"))
                            && "logic-b".equals(m.get("node")))
                    && Boolean.TRUE.equals(logic.get("active"));
        });
        Map<String, Object> logic = seen[0];
        long epoch = b.linkCache().linkOf(token, "logic").orElseThrow().epoch();
        assertThat(logic.get("owner")).isEqualTo("logic-b");
        assertThat(logic.get("epoch")).isEqualTo(epoch);
        assertThat(logic.get("activeEpoch")).isEqualTo(epoch);
        assertThat(logic.get("laneWaiting")).isEqualTo(0L);
        List<Map<String, Object>> calls = MonitorJson.list(logic.get("calls"));
        assertThat(calls).extracting(c -> c.get("node")).containsSubsequence("logic-a", "logic-a", "logic-b");
        assertThat(calls).allSatisfy(c -> {
            assertThat(c.get("method")).isEqualTo("click");
            assertThat(c.get("code")).isEqualTo("OK");
            assertThat(((Number) c.get("latencyMs")).doubleValue()).isGreaterThanOrEqualTo(0);
        });
        assertThat(MonitorJson.list(logic.get("moves")).getFirst().get("kind")).as("oldest first").isEqualTo("ACTIVATED");
        assertThat(MonitorJson.list(logic.get("moves")).getFirst().get("reason")).isEqualTo("FRESH");

        // The rebalance round is on the timeline too.
        Await.until(WAIT, "the rebalance on the timeline", () -> events(gateway, "?kind=REBALANCE,HANDOFFS").stream()
                .anyMatch(e -> "HANDOFFS".equals(e.get("kind")) && "logic-a".equals(e.get("node"))
                        && "rebalance".equals(fields(e).get("reason")) && "done".equals(fields(e).get("phase"))));
    }

    @Test
    void aFailedCallShowsItsCode() {
        logic("logic-a", players -> players
                .handle("refuse", StringValue.parser(), (player, ctx, req) -> {
                    throw new io.braid.api.BraidException(io.braid.api.Code.FAILED_PRECONDITION, "not now");
                })
                .handle("crash", StringValue.parser(), (player, ctx, req) -> {
                    throw new IllegalStateException("a bug");
                }));
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        click(gateway, "player-x");
        for (String method : List.of("refuse", "crash")) {
            assertThat(gateway.invoke("logic", method, "player-x", StringValue.of(""), Int64Value.parser(), TIMEOUT))
                    .failsWithin(Duration.ofSeconds(10));
        }
        List<Map<String, Object>> calls = MonitorJson.list(service(get(gateway, "/api/players/player-x"), "logic")
                .get("calls"));
        assertThat(calls).extracting(c -> c.get("method") + " " + c.get("code"))
                .containsExactly("click OK", "refuse FAILED_PRECONDITION", "crash UNKNOWN");
    }

    @Test
    void anUnknownTokenSaysSo() {
        logic("logic-a", players -> players);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        Map<String, Object> answer = get(gateway, "/api/players/nobody-" + System.nanoTime());
        assertThat(answer.get("known")).isEqualTo(false);
        assertThat((String) answer.get("message")).contains("no service has a link").contains("no node remembers it");
        assertThat(MonitorJson.list(answer.get("services"))).isEmpty();
    }

    @Test
    void aDrainShowsOnTheTimelineWithItsProgressAfterTheNodeIsGone() throws Exception {
        Braid a = logic("logic-a", players -> players);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < PLAYERS; i++) {
            click(gateway, "player-" + i);
        }
        Braid b = logic("logic-b", players -> players);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        a.drain().get(30, TimeUnit.SECONDS);
        Await.until(WAIT, "logic-a gone", () -> gateway.discover().nodes("logic").size() == 1);

        Await.until(WAIT, "the drain's end on the timeline", () -> events(gateway, "?node=logic-a").stream()
                .anyMatch(e -> "DRAIN".equals(e.get("kind")) && "done".equals(fields(e).get("phase"))));
        List<Map<String, Object>> drain = events(gateway, "?node=logic-a&kind=DRAIN,HANDOFFS").reversed(); // oldest first
        assertThat(drain).extracting(e -> e.get("kind") + " " + fields(e).get("phase"))
                .startsWith("DRAIN started", "HANDOFFS started").endsWith("HANDOFFS done", "DRAIN done")
                .contains("HANDOFFS progress");
        Map<String, Object> done = drain.get(drain.size() - 2);
        assertThat(fields(done)).containsEntry("handedOver", String.valueOf(PLAYERS)).containsEntry("of", String.valueOf(PLAYERS))
                .containsEntry("reason", "drain");
        assertThat((String) done.get("text")).contains("handed over " + PLAYERS + " of " + PLAYERS);
        assertThat(drain).extracting(e -> fields(e).get("handedOver")).filteredOn(n -> n != null)
                .extracting(n -> Integer.parseInt(String.valueOf(n))).as("progress only grows")
                .isSortedAccordingTo(Integer::compare);
        // The leader of logic saw logic-a turn DRAINING and leave.
        Await.until(WAIT, "logic-a leaving on the timeline", () -> events(gateway, "?kind=LEFT").stream()
                .anyMatch(e -> "logic-a".equals(fields(e).get("subject"))));
        assertThat(events(gateway, "?kind=STATE")).anyMatch(e -> "logic-a".equals(fields(e).get("subject"))
                && "DRAINING".equals(fields(e).get("state")));
        // A player of logic-a now shows logic-b as its owner, activated from the hand-over.
        Map<String, Object> logic = service(get(gateway, "/api/players/player-0"), "logic");
        assertThat(logic.get("owner")).isEqualTo("logic-b");
        assertThat(MonitorJson.list(logic.get("moves"))).anyMatch(m -> "RECEIVED".equals(m.get("kind"))
                && "logic-b".equals(m.get("node")));
        assertThat(b.node().id()).isEqualTo("logic-b");
    }

    @Test
    void aLeaderChangeShowsItsEpoch() {
        Braid first = logic("logic-a", players -> players);
        Braid gateway = gateway();
        Braid second = logic("logic-b", players -> players);
        Await.until(WAIT, "logic-a leads", first.elector()::isLeader);
        long firstEpoch = first.elector().epoch();
        Await.until(WAIT, "logic-a's leadership on the timeline", () -> events(gateway, "?kind=LEADER").stream()
                .anyMatch(e -> "logic-a".equals(e.get("node")) && String.valueOf(firstEpoch).equals(fields(e).get("epoch"))));

        first.close();
        Await.until(WAIT, "logic-b leads", second.elector()::isLeader);
        long secondEpoch = second.elector().epoch();
        assertThat(secondEpoch).isGreaterThan(firstEpoch);
        Await.until(WAIT, "logic-b's leadership and epoch on the timeline", () -> events(gateway, "?kind=LEADER")
                .stream().anyMatch(e -> "logic-b".equals(e.get("node"))
                        && String.valueOf(secondEpoch).equals(fields(e).get("epoch"))
                        && ((String) e.get("text")).contains("epoch " + secondEpoch)));
        List<Map<String, Object>> leaders = events(gateway, "?kind=LEADER&node=logic-b");
        assertThat(leaders).allMatch(e -> "logic-b".equals(e.get("node")) && "LEADER".equals(e.get("kind")));
        List<Map<String, Object>> all = events(gateway, "");
        assertThat(all).extracting(e -> ((Number) e.get("at")).longValue()).as("newest first")
                .isSortedAccordingTo((x, y) -> Long.compare(y, x));
    }

    @Test
    void aBadSinceIsRefusedWithItsReason() throws Exception {
        Braid gateway = gateway();
        String url = "http://127.0.0.1:" + gateway.monitorAddress().orElseThrow().getPort() + "/api/timeline?since=yesterday";
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("since must be epoch milliseconds");
        long now = System.currentTimeMillis() + 60_000;
        assertThat(events(gateway, "?since=" + now)).as("nothing after the future").isEmpty();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> fields(Map<String, Object> event) {
        return (Map<String, Object>) event.get("fields");
    }
}
