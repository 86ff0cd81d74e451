package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Player;
import io.braid.api.PlayerStates;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Player state with a lifecycle on real nodes of the in-memory control plane: handlers get the
 * player's state in its token's lane (no locks in the handlers), the first call activates it,
 * timers run in the lane, and each activation ends exactly once with its reason.
 */
class PlayersTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));

    /** A player's state as a game keeps it: plain fields, no locks. */
    static final class Clicks {
        final String token;
        final String node;
        long count;
        /** Pieces of this player's work running now: the lane keeps it at most 1. */
        int inside;

        Clicks(String token, String node) {
            this.token = token;
            this.node = node;
        }
    }

    private record Event(String node, String token, String what) {
    }

    private final List<Event> events = new CopyOnWriteArrayList<>();
    /** The epochs each "node token" was activated under, as activated() saw them. */
    private final Map<String, List<Long>> activatedUnder = new ConcurrentHashMap<>();
    /** Times a piece of a player's work found another one inside (the lane broken). */
    private final AtomicInteger overlaps = new AtomicInteger();
    private final List<Braid> nodes = new ArrayList<>();
    private final InMemoryControlPlane plane = new InMemoryControlPlane("players-" + System.nanoTime());

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    private PlayerStates<Clicks> states(String node) {
        return new PlayerStates<>() {
            @Override
            public Clicks activate(String token, Activation how, byte[] snapshot) {
                events.add(new Event(node, token, "activate " + how));
                if (token.startsWith("broken")) {
                    throw new IllegalStateException("no state for " + token);
                }
                return new Clicks(token, node);
            }

            @Override
            public void activated(Player<Clicks> player) {
                activatedUnder.computeIfAbsent(node + " " + player.token(), k -> new CopyOnWriteArrayList<>())
                        .add(player.epoch());
                if (player.token().startsWith("rearm")) {
                    // A restored state re-arms its timer here (after() works only in the lane).
                    enter(player.state());
                    events.add(new Event(node, player.token(), "activated"));
                    player.after(Duration.ofMillis(50), timed -> {
                        enter(timed.state());
                        events.add(new Event(node, timed.token(), "timer"));
                        timed.state().count += 100;
                        leave(timed.state());
                    });
                    leave(player.state());
                }
            }

            @Override
            public void deactivate(Clicks state, Deactivation why) {
                events.add(new Event(node, state.token, "deactivate " + why));
            }
        };
    }

    /** Enters a piece of the player's work, with a pause that lets a second piece in if the lane let it. */
    private void enter(Clicks state) {
        if (++state.inside != 1) {
            overlaps.incrementAndGet();
        }
        Thread.yield();
    }

    private void leave(Clicks state) {
        state.inside--;
    }

    private Players<Clicks> players(String node) {
        return Players.of(states(node))
                .handle("click", StringValue.parser(), (player, ctx, req) -> {
                    Clicks state = player.state();
                    enter(state);
                    try {
                        long read = state.count;
                        Thread.yield(); // a lost update shows if two clicks of one player ever overlap
                        state.count = read + 1;
                        return Int64Value.of(state.count);
                    } finally {
                        leave(state);
                    }
                })
                .handle("slow", StringValue.parser(), (player, ctx, req) -> {
                    enter(player.state());
                    try {
                        events.add(new Event(node, player.token(), "slow begins"));
                        Thread.sleep(Long.parseLong(req.getValue()));
                        events.add(new Event(node, player.token(), "slow ends"));
                        return Int64Value.of(player.state().count);
                    } finally {
                        leave(player.state());
                    }
                })
                .handle("arm", StringValue.parser(), (player, ctx, req) -> {
                    player.after(Duration.ofMillis(Long.parseLong(req.getValue())), timed -> {
                        enter(timed.state());
                        events.add(new Event(node, timed.token(), "timer"));
                        timed.state().count += 100;
                        leave(timed.state());
                    });
                    return Int64Value.of(player.state().count);
                })
                .handle("fail", StringValue.parser(), (player, ctx, req) -> {
                    throw new IllegalStateException("handler failed for " + player.token());
                })
                .handle("node", StringValue.parser(), (player, ctx, req) -> {
                    enter(player.state());
                    events.add(new Event(node, player.token(), "served"));
                    leave(player.state());
                    return Int64Value.of(player.state().count);
                })
                .handle("epoch", StringValue.parser(), (player, ctx, req) -> Int64Value.of(player.epoch()));
    }

    private Braid logic(String id) {
        return logic(id, Braid.builder().players(players(id)));
    }

    private Braid logic(String id, Braid.Builder builder) {
        Braid node = builder.service("logic").nodeId(id).inMemory(plane).ioThreads(1).start();
        nodes.add(node);
        return node;
    }

    private Braid gateway(String id) {
        Braid node = Braid.builder().service("gateway").nodeId(id).inMemory(plane).ioThreads(1).start();
        nodes.add(node);
        Await.until(WAIT, id + " sees the logic nodes", () -> !node.discover().nodes("logic").isEmpty());
        return node;
    }

    private static long call(Braid from, String method, String token, String request) {
        return from.invoke("logic", method, token, StringValue.of(request), Int64Value.parser(), TIMEOUT).join()
                .getValue();
    }

    private static Code failure(Braid from, String method, String token) {
        try {
            call(from, method, token, "0");
        } catch (CompletionException e) {
            return ((BraidException) e.getCause()).code();
        }
        throw new AssertionError(method + " of " + token + " did not fail");
    }

    private List<String> eventsOf(String node, String token) {
        return events.stream().filter(e -> e.node().equals(node) && e.token().equals(token)).map(Event::what).toList();
    }

    private long count(String node, String token, String what) {
        return eventsOf(node, token).stream().filter(what::equals).count();
    }

    @Test
    void concurrentClicksFromTwoGatewaysEndExactWithoutALockInTheHandler() throws Exception {
        logic("logic-a");
        Braid one = gateway("gateway-1");
        Braid two = gateway("gateway-2");
        int tokens = 4;
        int callers = 8; // per gateway and token
        int clicks = 25; // per caller
        Map<String, Set<Long>> answers = new ConcurrentHashMap<>();
        try (ExecutorService callersPool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < tokens; t++) {
                String token = "player-" + t;
                Set<Long> seen = answers.computeIfAbsent(token, k -> ConcurrentHashMap.newKeySet());
                for (Braid gateway : List.of(one, two)) {
                    for (int c = 0; c < callers; c++) {
                        running.add(callersPool.submit(() -> {
                            for (int i = 0; i < clicks; i++) {
                                seen.add(call(gateway, "click", token, ""));
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
        long perToken = 2L * callers * clicks;
        for (int t = 0; t < tokens; t++) {
            String token = "player-" + t;
            assertThat(call(one, "node", token, "")).as("clicks of %s", token).isEqualTo(perToken);
            assertThat(answers.get(token)).as("every click of %s saw its own count", token).hasSize((int) perToken);
            assertThat(count("logic-a", token, "activate FRESH")).as("activations of %s", token).isEqualTo(1);
        }
        assertThat(overlaps).as("pieces of one player's work that overlapped").hasValue(0);
    }

    @Test
    void aTimerFiresInTheLaneAfterTheCallHoldingItAndNeverOverlapsIt() {
        logic("logic-a");
        Braid gateway = gateway("gateway-1");
        call(gateway, "arm", "player-1", "50");
        CompletableFuture<Int64Value> slow = gateway.invoke("logic", "slow", "player-1", StringValue.of("400"),
                Int64Value.parser(), TIMEOUT);
        Await.until(WAIT, "the timer fires", () -> eventsOf("logic-a", "player-1").contains("timer"));
        slow.join();
        List<String> seen = eventsOf("logic-a", "player-1");
        if (seen.indexOf("slow begins") < seen.indexOf("timer")) {
            // The slow call held the lane when the timer came due: the timer waited for its end.
            assertThat(seen.indexOf("slow ends")).as("order in %s", seen).isLessThan(seen.indexOf("timer"));
        }
        assertThat(call(gateway, "node", "player-1", "")).as("the timer changed the same state").isEqualTo(100);
        assertThat(overlaps).hasValue(0);
    }

    @Test
    void aTimerArmedBeforeADeactivationNeverFiresAfterItAndTheNextCallActivatesAfresh() {
        logic("logic-a");
        Braid gateway = gateway("gateway-1");
        call(gateway, "click", "player-1", "");
        call(gateway, "arm", "player-1", "300");
        gateway.linkCache().unlinkAsync("player-1").join(); // the player left
        Await.until(WAIT, "player-1 deactivated", () -> count("logic-a", "player-1", "deactivate LEFT") == 1);
        assertThat(Await.poll(Duration.ofMillis(800), () -> eventsOf("logic-a", "player-1").contains("timer")))
                .as("the timer of the ended activation ran").isFalse();
        assertThat(call(gateway, "click", "player-1", "")).as("a fresh state counts from 0").isEqualTo(1);
        assertThat(eventsOf("logic-a", "player-1"))
                .containsExactly("activate FRESH", "deactivate LEFT", "activate FRESH");
    }

    @Test
    void closingTheNodeDeactivatesEveryPlayerOnceWithClosing() {
        Braid logic = logic("logic-a");
        Braid gateway = gateway("gateway-1");
        for (int t = 0; t < 5; t++) {
            call(gateway, "click", "player-" + t, "");
        }
        call(gateway, "arm", "player-0", "60000");
        logic.close();
        for (int t = 0; t < 5; t++) {
            assertThat(eventsOf("logic-a", "player-" + t)).as("player-%s", t)
                    .containsExactly("activate FRESH", "deactivate CLOSING");
        }
    }

    @Test
    void aPlayerWithNoCallForTheIdleTimeoutIsDeactivatedIdle() {
        MovedTicker ticker = new MovedTicker();
        logic("logic-a", Braid.builder().ticker(ticker)
                .players(players("logic-a").idleTimeout(Duration.ofMinutes(10))));
        Braid gateway = gateway("gateway-1");
        call(gateway, "click", "player-1", "");
        ticker.advance(Duration.ofMinutes(6));
        call(gateway, "click", "player-2", ""); // player-2 became active 6 min after player-1
        ticker.advance(Duration.ofMinutes(4));
        Await.until(WAIT, "player-1 idle", () -> count("logic-a", "player-1", "deactivate IDLE") == 1);
        assertThat(eventsOf("logic-a", "player-2")).as("player-2, idle for 4 min").containsExactly("activate FRESH");
        assertThat(call(gateway, "click", "player-1", "")).as("a fresh state counts from 0").isEqualTo(1);
        assertThat(eventsOf("logic-a", "player-1"))
                .containsExactly("activate FRESH", "deactivate IDLE", "activate FRESH");
    }

    @Test
    void aPlayerRelinkedToAnotherNodeIsDeactivatedMovedAndServedThere() {
        Braid a = logic("logic-a");
        Braid gateway = gateway("gateway-1");
        gateway.linkCache().relinkAsync("player-1", a.node()).join();
        assertThat(call(gateway, "click", "player-1", "")).isEqualTo(1);
        call(gateway, "arm", "player-1", "300");
        Braid b = logic("logic-b");
        Await.until(WAIT, "gateway sees both", () -> gateway.discover().nodes("logic").size() == 2);
        gateway.linkCache().relinkAsync("player-1", b.node()).join();
        Await.until(WAIT, "player-1 moved off logic-a", () -> count("logic-a", "player-1", "deactivate MOVED") == 1);
        int servedByA = (int) count("logic-a", "player-1", "served");
        Await.until(WAIT, "player-1 served by logic-b", () -> {
            try {
                call(gateway, "node", "player-1", "");
            } catch (CompletionException refusedWhileTheMoveSettles) {
                return false;
            }
            return count("logic-b", "player-1", "served") > 0;
        });
        assertThat(count("logic-a", "player-1", "served")).as("calls logic-a served after the move").isEqualTo(servedByA);
        assertThat(Await.poll(Duration.ofMillis(500), () -> eventsOf("logic-a", "player-1").contains("timer")))
                .as("the timer armed on logic-a before the move ran").isFalse();
        assertThat(eventsOf("logic-a", "player-1")).containsExactly("activate FRESH", "deactivate MOVED");
        assertThat(eventsOf("logic-b", "player-1")).startsWith("activate FRESH");
    }

    /** Calls {@code method} until logic node {@code node} answers it (refusals while a move settles are retried). */
    private long callUntilServedBy(Braid gateway, String method, String token, String node) {
        long[] answer = new long[1];
        Await.until(WAIT, token + " served by " + node, () -> {
            try {
                answer[0] = call(gateway, method, token, "");
            } catch (CompletionException refusedWhileTheMoveSettles) {
                return false;
            }
            return gateway.linkCache().linkOf(token, "logic").map(l -> l.nodeId().equals(node)).orElse(false)
                    && activatedUnder.containsKey(node + " " + token);
        });
        return answer[0];
    }

    private static long linkEpoch(Braid gateway, String token) {
        return gateway.linkCache().linkOf(token, "logic").orElseThrow().epoch();
    }

    @Test
    void aPlayerIsActivatedUnderItsLinksEpochAndAMoveAwayAndBackActivatesItUnderAHigherOne() {
        Braid a = logic("logic-a");
        Braid b = logic("logic-b");
        Braid gateway = gateway("gateway-1");
        Await.until(WAIT, "gateway sees both", () -> gateway.discover().nodes("logic").size() == 2);
        gateway.linkCache().relinkAsync("player-1", a.node()).join();
        long first = linkEpoch(gateway, "player-1");
        assertThat(call(gateway, "epoch", "player-1", "")).as("Player.epoch() on logic-a").isEqualTo(first);

        gateway.linkCache().relinkAsync("player-1", b.node()).join();
        long second = linkEpoch(gateway, "player-1");
        assertThat(second).isGreaterThan(first);
        Await.until(WAIT, "logic-a gives player-1 up", () -> count("logic-a", "player-1", "deactivate MOVED") == 1);
        assertThat(callUntilServedBy(gateway, "epoch", "player-1", "logic-b")).as("Player.epoch() on logic-b")
                .isEqualTo(second);

        gateway.linkCache().relinkAsync("player-1", a.node()).join();
        long third = linkEpoch(gateway, "player-1");
        assertThat(third).isGreaterThan(second);
        Await.until(WAIT, "logic-b gives player-1 up", () -> count("logic-b", "player-1", "deactivate MOVED") == 1);
        Await.until(WAIT, "logic-a serves player-1 again under the newest epoch", () -> {
            try {
                return call(gateway, "epoch", "player-1", "") == third;
            } catch (CompletionException refusedWhileTheMoveSettles) {
                return false;
            }
        });
        assertThat(activatedUnder.get("logic-a player-1")).containsExactly(first, third);
        assertThat(activatedUnder.get("logic-b player-1")).containsExactly(second);
        assertThat(eventsOf("logic-a", "player-1")).containsExactly("activate FRESH", "deactivate MOVED", "activate FRESH");
    }

    @Test
    void activatedRunsInTheLaneBeforeTheFirstHandlerAndMayArmATimer() {
        logic("logic-a");
        Braid gateway = gateway("gateway-1");
        assertThat(call(gateway, "node", "rearm-1", "")).as("the first handler, before the timer").isZero();
        Await.until(WAIT, "the timer armed in activated() ran", () -> eventsOf("logic-a", "rearm-1").contains("timer"));
        assertThat(call(gateway, "node", "rearm-1", "")).isEqualTo(100);
        assertThat(eventsOf("logic-a", "rearm-1"))
                .containsExactly("activate FRESH", "activated", "served", "timer", "served");
        assertThat(activatedUnder.get("logic-a rearm-1")).containsExactly(linkEpoch(gateway, "rearm-1"));
        assertThat(overlaps).as("pieces of rearm-1's work that overlapped").hasValue(0);
    }

    @Test
    void theEmptyTokenIsRefusedForPlayerMethods() {
        logic("logic-a");
        Braid gateway = gateway("gateway-1");
        assertThat(failure(gateway, "click", "")).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(events).as("nothing activated").isEmpty();
    }

    @Test
    void aFailingActivationFailsTheCallUnavailableAndAFailingHandlerKeepsThePlayer() {
        logic("logic-a");
        Braid gateway = gateway("gateway-1");
        assertThat(failure(gateway, "click", "broken-1")).isEqualTo(Code.UNAVAILABLE);
        assertThat(failure(gateway, "click", "broken-1")).as("tried again on the next call").isEqualTo(Code.UNAVAILABLE);
        assertThat(count("logic-a", "broken-1", "activate FRESH")).isEqualTo(2);
        call(gateway, "click", "player-1", "");
        assertThat(failure(gateway, "fail", "player-1")).isEqualTo(Code.INTERNAL);
        assertThat(call(gateway, "click", "player-1", "")).as("the same state after the failed call").isEqualTo(2);
        assertThat(eventsOf("logic-a", "player-1")).containsExactly("activate FRESH");
    }

    @Test
    void aTimerCanBeArmedOnlyInThePlayersLaneAndCancelled() {
        List<Object> outside = new CopyOnWriteArrayList<>();
        Players<Clicks> players = Players.of(states("logic-a"))
                .handle("keep", StringValue.parser(), (player, ctx, req) -> {
                    io.braid.api.Player.Timer timer = player.after(Duration.ofMillis(100),
                            p -> events.add(new Event("logic-a", p.token(), "timer")));
                    assertThat(timer.cancel()).isTrue();
                    assertThat(timer.cancel()).as("a second cancel").isFalse();
                    Thread other = Thread.ofVirtual().start(() -> {
                        try {
                            player.after(Duration.ZERO, p -> { });
                        } catch (IllegalStateException e) {
                            outside.add(e);
                        }
                    });
                    other.join();
                    return Int64Value.of(0);
                });
        logic("logic-a", Braid.builder().players(players));
        Braid gateway = gateway("gateway-1");
        call(gateway, "keep", "player-1", "");
        assertThat(outside).as("after() from another thread").hasSize(1);
        assertThat(Await.poll(Duration.ofMillis(400), () -> eventsOf("logic-a", "player-1").contains("timer")))
                .as("the cancelled timer ran").isFalse();
    }

    @Test
    void aDefinitionRefusesBadSettings() {
        Players<Clicks> players = Players.of(states("x")).handle("click", StringValue.parser(),
                (player, ctx, req) -> Int64Value.of(0));
        assertThatThrownBy(() -> players.handle("click", StringValue.parser(), (player, ctx, req) -> Int64Value.of(0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already handled");
        assertThatThrownBy(() -> players.idleTimeout(Duration.ofHours(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> Braid.builder().players(players).players(players))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("players were set already");
    }
}
