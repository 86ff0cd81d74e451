package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Player;
import io.braid.api.PlayerStates;
import io.braid.linkcache.internal.LinkKeys;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Players on one real Redis: two logic nodes, two gateways. Clicks of many players from both
 * gateways end exact with no lock in the handler, each player active on one node only; a player
 * moved by a relink is deactivated MOVED on its old node, one unlinked is deactivated LEFT.
 */
class RedisPlayersTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));

    /** A player's state: a plain counter. */
    static final class Count {
        long value;
        String token;
    }

    private final List<String> events = new CopyOnWriteArrayList<>();
    /** "node token reason" of every deactivation. */
    private final List<String> ended = new CopyOnWriteArrayList<>();
    private final List<Braid> nodes = new ArrayList<>();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    private Braid start(Braid.Builder builder) {
        Braid node = builder.redis(redis.server().uri()).heartbeat(Duration.ofMillis(200), Duration.ofMillis(900))
                .ioThreads(1).start();
        nodes.add(node);
        return node;
    }

    private Braid logic(String id) {
        Players<Count> players = Players.of(new PlayerStates<Count>() {
            @Override
            public Count activate(String token, Activation how, byte[] snapshot) {
                events.add(id + " " + token + " activate " + how);
                return new Count();
            }

            @Override
            public void activated(Player<Count> player) {
                player.state().token = player.token();
            }

            @Override
            public void deactivate(Count state, Deactivation why) {
                events.add(id + " " + why + " at " + state.value);
                ended.add(id + " " + state.token + " " + why);
            }
        }).handle("click", StringValue.parser(), (player, ctx, req) -> {
            long read = player.state().value;
            Thread.yield(); // a lost update shows if two clicks of one player ever overlap
            player.state().value = read + 1;
            return Int64Value.of(player.state().value);
        }).handle("epoch", StringValue.parser(), (player, ctx, req) -> Int64Value.of(player.epoch()));
        return start(Braid.builder().service("logic").nodeId(id).players(players));
    }

    private static long click(Braid gateway, String token) {
        return gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join()
                .getValue();
    }

    private long activations(String token) {
        return events.stream().filter(e -> e.endsWith(" " + token + " activate FRESH")).count();
    }

    @Test
    void clicksFromTwoGatewaysOnTwoNodesEndExactAndEachPlayerIsActiveOnce() throws Exception {
        logic("logic-a");
        logic("logic-b");
        Braid one = start(Braid.builder().service("gateway").nodeId("gateway-1"));
        Braid two = start(Braid.builder().service("gateway").nodeId("gateway-2"));
        Await.until(WAIT, "gateways see both logic nodes", () -> one.discover().nodes("logic").size() == 2
                && two.discover().nodes("logic").size() == 2);
        int tokens = 6;
        int callers = 4; // per gateway and token
        int clicks = 20; // per caller
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < tokens; t++) {
                String token = "player-" + t;
                for (Braid gateway : List.of(one, two)) {
                    for (int c = 0; c < callers; c++) {
                        running.add(pool.submit(() -> {
                            for (int i = 0; i < clicks; i++) {
                                click(gateway, token);
                            }
                            return null;
                        }));
                    }
                }
            }
            for (Future<?> caller : running) {
                caller.get();
            }
        }
        for (int t = 0; t < tokens; t++) {
            String token = "player-" + t;
            assertThat(click(one, token)).as("clicks of %s", token).isEqualTo(2L * callers * clicks + 1);
            assertThat(activations(token)).as("activations of %s (%s)", token, events).isEqualTo(1);
        }
    }

    @Test
    void aRelinkedPlayerIsDeactivatedMovedAndAnUnlinkedOneLeft() {
        Braid a = logic("logic-a");
        Braid b = logic("logic-b");
        Braid gateway = start(Braid.builder().service("gateway").nodeId("gateway-1"));
        Await.until(WAIT, "gateway sees both", () -> gateway.discover().nodes("logic").size() == 2);
        gateway.linkCache().relinkAsync("player-1", a.node()).join();
        click(gateway, "player-1");
        click(gateway, "player-1");
        gateway.linkCache().relinkAsync("player-1", b.node()).join();
        Await.until(WAIT, "logic-a gives player-1 up", () -> events.contains("logic-a MOVED at 2"));
        Await.until(WAIT, "logic-b serves player-1 afresh", () -> {
            try {
                return click(gateway, "player-1") == 1;
            } catch (CompletionException refusedWhileTheMoveSettles) {
                return false;
            }
        });
        gateway.linkCache().unlinkAsync("player-1").join();
        Await.until(WAIT, "logic-b lets player-1 go", () -> events.contains("logic-b LEFT at 1"));
        assertThat(events).containsExactly("logic-a player-1 activate FRESH", "logic-a MOVED at 2",
                "logic-b player-1 activate FRESH", "logic-b LEFT at 1");
    }

    /**
     * Hands the token's link in a service to another owner behind the link cache's back, under the
     * same epoch (no invalidation): its field in the bucket where RedisLinkCache keeps it by default.
     */
    private static void handOverUnheard(RedisProbe probe, String token, String service, String owner) {
        String bucket = LinkKeys.DEFAULTS.bucketKey(token);
        String field = LinkKeys.field(token, service);
        String value = (String) probe.command("HGET", bucket, field);
        probe.command("HSET", bucket, field, owner + value.substring(value.indexOf(LinkKeys.SEPARATOR)));
    }

    @Test
    void anOldMoveHeardLateNeverDeactivatesTheNewerActivation() {
        Braid a = logic("logic-a");
        Braid b = logic("logic-b");
        Braid gateway = start(Braid.builder().service("gateway").nodeId("gateway-1"));
        Await.until(WAIT, "gateway sees both", () -> gateway.discover().nodes("logic").size() == 2);
        gateway.linkCache().relinkAsync("player-1", a.node()).join();
        long toB = gateway.linkCache().relinkAsync("player-1", b.node()).join().epoch();
        long backToA = gateway.linkCache().relinkAsync("player-1", a.node()).join().epoch();
        gateway.linkCache().relinkAsync("player-2", a.node()).join();
        long[] epoch = new long[1];
        Await.until(WAIT, "logic-a serves player-1 again", () -> {
            try {
                epoch[0] = gateway.invoke("logic", "epoch", "player-1", StringValue.of(""), Int64Value.parser(), TIMEOUT)
                        .join().getValue();
                return true;
            } catch (CompletionException refusedUntilLogicAHearsTheMoveBack) {
                return false;
            }
        });
        assertThat(epoch[0]).as("player-1 activated on logic-a under its link's epoch").isEqualTo(backToA);
        click(gateway, "player-1");
        click(gateway, "player-2");

        try (RedisProbe probe = redis.server().probe()) {
            // The invalidation of the move to logic-b, arriving (again) after the move back.
            probe.command("PUBLISH", "braid:linkcache", "tok:player-1\0logic\0" + toB + "\0logic-b");
        }
        // A change after it on the same channel: once logic-a heard it, it heard the old one too.
        gateway.linkCache().unlinkAsync("player-2").join();
        Await.until(WAIT, "logic-a hears player-2 leave", () -> ended.contains("logic-a player-2 LEFT"));

        assertThat(ended).as("deactivations").containsExactly("logic-a player-2 LEFT");
        assertThat(click(gateway, "player-1")).as("the same activation serves player-1 on logic-a").isEqualTo(2);
    }

    /**
     * A call that reaches a node its link no longer names (through a stale near cache) activates
     * nothing there: the node refuses it as not served here, naming the owner its link names, and
     * the caller's client sends it on to that owner (on the code before the re-route the caller
     * saw UNAVAILABLE; before the epoch rule logic-a activated and served the player).
     */
    @Test
    void aCallReachingANodeItsLinkNoLongerNamesActivatesNothingThereAndGoesOnToTheOwner() {
        Braid a = logic("logic-a");
        logic("logic-b");
        Braid gateway = start(Braid.builder().service("gateway").nodeId("gateway-1"));
        Await.until(WAIT, "gateway sees both", () -> gateway.discover().nodes("logic").size() == 2);
        gateway.linkCache().relinkAsync("player-1", a.node()).join(); // the gateway's near cache holds it
        try (RedisProbe probe = redis.server().probe()) {
            // The link moves without its invalidation: the gateway's near cache still names logic-a.
            handOverUnheard(probe, "player-1", "logic", "logic-b");
        }
        assertThat(gateway.linkCache().linkOf("player-1", "logic").orElseThrow().nodeId())
                .as("the gateway's (stale) view").isEqualTo("logic-a");

        assertThat(click(gateway, "player-1")).as("served, by the owner its link names").isEqualTo(1);
        assertThat(events).as("activations").containsExactly("logic-b player-1 activate FRESH");
    }

    /** HGETs Redis ran (link-cache lookups and link scripts; see RedisStickyRoutingContract.LINK_CACHE_COMMANDS). */
    private static long linkCacheCalls() {
        try (RedisProbe probe = redis.server().probe()) {
            Map<String, Long> calls = probe.commandCalls();
            return RedisStickyRoutingContract.LINK_CACHE_COMMANDS.stream().mapToLong(c -> calls.getOrDefault(c, 0L)).sum();
        }
    }

    @Test
    void aWarmPlayerCallSendsNoRedisCommandAndAnActivationReadsTheLinkOnce() {
        logic("logic-a");
        Braid gateway = start(Braid.builder().service("gateway").nodeId("gateway-1"));
        Await.until(WAIT, "gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        List<String> tokens = new ArrayList<>();
        for (int t = 0; t < 50; t++) {
            tokens.add("warm-" + t);
        }
        long beforeCold = linkCacheCalls();
        tokens.forEach(token -> click(gateway, token));
        long afterCold = linkCacheCalls();
        for (int round = 0; round < 10; round++) {
            tokens.forEach(token -> click(gateway, token));
        }
        long afterWarm = linkCacheCalls();
        System.out.printf("players: link-cache commands %d for %d cold player calls (gateway lookup, link, "
                + "activation read), %d for %d warm ones%n", afterCold - beforeCold, tokens.size(),
                afterWarm - afterCold, 10 * tokens.size());
        assertThat(afterWarm).as("link-cache commands Redis ran during 500 warm player calls").isEqualTo(afterCold);
        assertThat(events.stream().filter(e -> e.contains(" activate ")).count()).isEqualTo(tokens.size());
    }
}
