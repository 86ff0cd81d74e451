package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.Link;
import io.braid.api.PlayerStates;
import io.braid.testkit.Await;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Live handoff on drain, on real nodes of the in-memory control plane: a draining node hands each
 * active player to another node with its state (snapshot, compare-and-set of the link, activation
 * from the snapshot there) while the players' calls keep coming; no call fails, every click a
 * player was told about is still counted after the move, and no player is served by two nodes.
 */
class HandoffTest {
    static final int PLAYERS = 40;
    static final Duration WAIT = Duration.ofSeconds(20);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));

    /** A player's clicks, and the node that holds this copy of it. */
    static final class Clicks {
        final String node;
        long count;
        int inside;

        Clicks(String node, long count) {
            this.node = node;
            this.count = count;
        }
    }

    /** What a test adds to every logic node's players definition. */
    java.util.function.UnaryOperator<Players<Clicks>> playerSettings = players -> players;
    private final InMemoryControlPlane plane = new InMemoryControlPlane("handoff-" + System.nanoTime());
    private final List<Braid> nodes = new ArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    /** Pieces of one player's work that found another one inside, on any node (two live copies serving). */
    final AtomicInteger overlaps = new AtomicInteger();
    /** Per token, the copy serving it now; two at once would be two owners. */
    private final Map<String, Clicks> serving = new ConcurrentHashMap<>();

    /** Puts a node on this test's control plane. */
    protected Braid.Builder onPlane(Braid.Builder builder) {
        return builder.inMemory(plane);
    }

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    private PlayerStates<Clicks> states(String node, boolean snapshots) {
        return new PlayerStates<>() {
            @Override
            public Clicks activate(String token, Activation how, byte[] snapshot) {
                events.add(node + " " + token + " activate " + how);
                return new Clicks(node, how == Activation.HANDOFF ? ByteBuffer.wrap(snapshot).getLong() : 0);
            }

            @Override
            public byte[] snapshot(Clicks state) {
                return snapshots ? ByteBuffer.allocate(Long.BYTES).putLong(state.count).array() : null;
            }

            @Override
            public void deactivate(Clicks state, Deactivation why) {
                events.add(node + " deactivate " + why);
            }
        };
    }

    Braid logic(String id, boolean snapshots) {
        return logic(id, snapshots, builder -> builder);
    }

    Braid logic(String id, boolean snapshots, java.util.function.UnaryOperator<Braid.Builder> more) {
        Players<Clicks> players = playerSettings.apply(Players.of(states(id, snapshots)))
                .handle("click", StringValue.parser(), (player, ctx, req) -> {
                    Clicks state = player.state();
                    Clicks other = serving.put(player.token(), state);
                    if (++state.inside != 1 || (other != null && other != state && other.inside > 0)) {
                        overlaps.incrementAndGet();
                    }
                    try {
                        Thread.yield();
                        return Int64Value.of(++state.count);
                    } finally {
                        state.inside--;
                    }
                });
        Braid node = more.apply(onPlane(Braid.builder().service("logic").nodeId(id).ioThreads(1).players(players)
                .drainTimeout(Duration.ofSeconds(30)))).start();
        nodes.add(node);
        return node;
    }

    Braid gateway() {
        Braid node = onPlane(Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)).start();
        nodes.add(node);
        return node;
    }

    static long click(Braid gateway, String token) {
        return gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join()
                .getValue();
    }

    /** {@value #PLAYERS} players, each clicked once through {@code gateway} (so linked to the only logic node). */
    static Map<String, Long> playersClickedOnce(Braid gateway) {
        Map<String, Long> told = new ConcurrentHashMap<>();
        for (int i = 0; i < PLAYERS; i++) {
            String token = "player-" + i;
            told.put(token, click(gateway, token));
        }
        return told;
    }

    /**
     * The players of {@code told} clicking through {@code gateway}, each one call at a time on a
     * virtual thread of its own, keeping in {@code told} the count each was last told. With
     * {@code exact}, a failed call or an answer other than one more than the last is a failure;
     * without, failures of the codes in {@code allowed} are allowed and only an answer that does not
     * grow is one (a failed call may or may not have counted).
     */
    static final class Clicking implements AutoCloseable {
        final Map<String, Long> told;
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final AtomicBoolean clicking = new AtomicBoolean(true);
        private final List<Thread> players = new ArrayList<>();

        Clicking(Braid gateway, Map<String, Long> told, boolean exact, Set<String> allowed) {
            this.told = told;
            for (String token : told.keySet()) {
                players.add(Thread.ofVirtual().start(() -> {
                    while (clicking.get()) {
                        try {
                            long answer = click(gateway, token);
                            long before = told.put(token, answer);
                            if (exact ? answer != before + 1 : answer <= before) {
                                failures.add(new AssertionError(token + " was told " + answer + " after " + before));
                            }
                        } catch (CompletionException e) {
                            if (exact || !(e.getCause() instanceof io.braid.api.BraidException braid
                                    && allowed.contains(braid.code().name()))) {
                                failures.add(e.getCause());
                            }
                        }
                    }
                }));
            }
        }

        /** Clicks every player was told about so far. */
        long total() {
            return told.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Waits until {@code more} clicks beyond now were told. */
        void flowFor(long more, String what) {
            long from = total();
            Await.until(WAIT, what, () -> total() > from + more);
        }

        @Override
        public void close() throws InterruptedException {
            clicking.set(false);
            for (Thread player : players) {
                player.join(TimeUnit.SECONDS.toMillis(10));
            }
        }
    }

    @Test
    void aDrainHandsEveryPlayerOverWithItsStateWhileItsCallsKeepComingAndNoCallFails() throws Exception {
        Braid a = logic("logic-a", true);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        Map<String, Long> told = playersClickedOnce(gateway); // every player starts on logic-a
        List<String> tokens = List.copyOf(told.keySet());
        Braid b = logic("logic-b", true);
        Await.until(WAIT, "the gateway sees logic-b", () -> gateway.discover().nodes("logic").size() == 2);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        Clicking clicking = new Clicking(gateway, told, true, Set.of());
        try (clicking) {
            clicking.flowFor(200, "clicks flow");
            a.drain().get(30, TimeUnit.SECONDS);
            clicking.flowFor(200, "clicks flow after the drain");
        }

        assertThat(clicking.failures).as("calls that failed or skipped a click").isEmpty();
        assertThat(overlaps).as("pieces of one player's work that overlapped (two owners)").hasValue(0);
        for (String token : tokens) {
            assertThat(click(gateway, token)).as("%s's clicks, all still counted", token).isEqualTo(told.get(token) + 1);
            Link link = gateway.linkCache().linkOf(token, "logic").orElseThrow();
            assertThat(link.nodeId()).isEqualTo("logic-b");
        }
        assertThat(events.stream().filter(e -> e.startsWith("logic-b") && e.endsWith("activate HANDOFF")).count())
                .as("players logic-b activated from a handoff").isEqualTo(tokens.size());
        assertThat(events.stream().filter(e -> e.equals("logic-a deactivate MOVED")).count())
                .as("players logic-a let go, MOVED").isEqualTo(tokens.size());
        assertThat(events).as("no player was activated afresh on logic-b: its state came along")
                .noneMatch(e -> e.startsWith("logic-b") && e.endsWith("activate FRESH"));
    }

    @Test
    void aDrainOffersItsPlayersInBatchesAndTellsTheirOutcomesInBatches() throws Exception {
        int players = 3 * PlayerHome.HANDOFF_BATCH;
        Braid a = logic("logic-a", true);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < players; i++) {
            click(gateway, "player-" + i);
        }
        Map<String, AtomicInteger> messages = new ConcurrentHashMap<>();
        logic("logic-b", true, b -> b.serverInterceptor((call, next) -> {
            messages.computeIfAbsent(call.method(), m -> new AtomicInteger()).incrementAndGet();
            return next.proceed(call);
        }));
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        a.drain().get(30, TimeUnit.SECONDS);

        assertThat(events.stream().filter(e -> e.startsWith("logic-b") && e.endsWith("activate HANDOFF")).count())
                .as("players logic-b activated from a handoff").isEqualTo(players);
        // One offer message per batch of players, not one per player; the outcomes are told as the
        // moves settle, those settled meanwhile together: a few messages per batch at most.
        assertThat(messages.get(Handoff.OFFER)).as("offer messages").hasValue(3);
        assertThat(messages.get(Handoff.OUTCOME).get()).as("outcome messages").isBetween(3, players / 16);
        assertThat(messages).doesNotContainKeys(Handoff.OFFER_ONE, Handoff.OUTCOME_ONE);
        for (int i = 0; i < players; i++) {
            assertThat(click(gateway, "player-" + i)).as("player-%d's click came along", i).isEqualTo(2);
        }
    }

    @Test
    void playersWithoutASnapshotStayAndTheDrainWaitsForThemAsBefore() throws Exception {
        Braid a = logic("logic-a", false);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        assertThat(click(gateway, "player-1")).isEqualTo(1);
        Braid b = logic("logic-b", false);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        var drained = a.drain();
        assertThat(Await.poll(Duration.ofSeconds(2), drained::isDone)).as("the drain waits for the player").isFalse();
        assertThat(click(gateway, "player-1")).as("still served by logic-a, its state intact").isEqualTo(2);
        assertThat(events).noneMatch(e -> e.startsWith("logic-b"));
        gateway.linkCache().unlinkAsync("player-1").join(); // the player leaves
        drained.get(10, TimeUnit.SECONDS);
        // logic-a deregistered as it closed; logic-b hears of it through discovery's events (on Redis a
        // few ms later), so it is awaited, not read at once.
        Await.until(WAIT, "logic-b sees logic-a gone", () -> b.discover().nodes("logic").size() == 1);
        assertThat(b.discover().nodes("logic")).extracting(n -> n.id()).containsExactly("logic-b");
    }

    @Test
    void aColdCallOnADrainingNodeMovesThePlayersLinkAndIsServedElsewhere() throws Exception {
        Braid a = logic("logic-a", false);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        gateway.linkCache().claimAsync("player-1", a.node()).join(); // linked, never activated
        assertThat(click(gateway, "player-2")).isEqualTo(1); // keeps the drain open
        logic("logic-b", false);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        a.drain();
        Await.until(WAIT, "player-1 is served on logic-b", () -> {
            try {
                click(gateway, "player-1");
            } catch (CompletionException refusedUntilRoutedAgain) {
                return false;
            }
            return events.contains("logic-b player-1 activate FRESH");
        });
        assertThat(events).as("never activated on the draining node").doesNotContain("logic-a player-1 activate FRESH");
        // The refusal named logic-b and the call went there at once; the gateway's near cache learns
        // of the new link from its invalidation (on a Cluster that can come a few ms after the call).
        Await.until(WAIT, "the gateway's link of player-1 names logic-b", () ->
                "logic-b".equals(gateway.linkCache().linkOf("player-1", "logic").orElseThrow().nodeId()));
    }

    /** A server interceptor that refuses one internal method as a node that died would (the call fails). */
    private static io.braid.api.ServerInterceptor failing(String method, Runnable also) {
        return (call, next) -> {
            if (call.method().equals(method)) {
                also.run();
                throw new io.braid.api.BraidException(io.braid.api.Code.UNAVAILABLE, "node died");
            }
            return next.proceed(call);
        };
    }

    @Test
    void aTargetThatFailsTheOfferIsPassedOverAndThePlayerMovesWithItsStateToTheNext() throws Exception {
        Braid a = logic("logic-a", true);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 1; i <= 5; i++) {
            click(gateway, "player-1");
        }
        AtomicInteger offersRefused = new AtomicInteger();
        logic("logic-b", true, b -> b.serverInterceptor(failing(Handoff.OFFER, offersRefused::incrementAndGet)));
        logic("logic-c", true);
        Await.until(WAIT, "logic-a sees both", () -> a.discover().nodes("logic").size() == 3);

        a.drain().get(30, TimeUnit.SECONDS);

        assertThat(gateway.linkCache().linkOf("player-1", "logic").orElseThrow().nodeId()).isEqualTo("logic-c");
        assertThat(click(gateway, "player-1")).as("its five clicks came along").isEqualTo(6);
        assertThat(events).contains("logic-c player-1 activate HANDOFF").noneMatch(e -> e.startsWith("logic-b"));
    }

    @Test
    void aTargetThatDiesAfterTheMoveLeavesThePlayerOneOwnerAndItsCallsServedElsewhere() throws Exception {
        Braid a = logic("logic-a", true);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        assertThat(click(gateway, "player-1")).isEqualTo(1);
        Braid[] b = new Braid[1];
        AtomicBoolean died = new AtomicBoolean();
        b[0] = logic("logic-b", true, builder -> builder.serverInterceptor(failing(Handoff.OUTCOME, () -> {
            if (died.compareAndSet(false, true)) {
                Thread.ofVirtual().start(() -> b[0].close()); // dies before it hears the outcome
            }
        })));
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        a.drain().get(30, TimeUnit.SECONDS);
        Await.until(WAIT, "logic-b is gone", () -> gateway.discover().nodes("logic").isEmpty());
        assertThat(events).as("logic-a let the player go once the link named logic-b")
                .contains("logic-a deactivate MOVED");
        Braid c = logic("logic-c", true);
        Await.until(WAIT, "the gateway sees logic-c", () -> gateway.discover().nodes("logic").size() == 1);

        // The player's owner died holding it, as any owner may: the next call finds it a new one.
        assertThat(click(gateway, "player-1")).as("served again, afresh: its owner died").isEqualTo(1);
        assertThat(gateway.linkCache().linkOf("player-1", "logic").orElseThrow().nodeId()).isEqualTo(c.node().id());
        assertThat(events).doesNotContain("logic-b player-1 activate HANDOFF");
        assertThat(overlaps).hasValue(0);
    }

    @Test
    void aNodeThatJoinsGetsItsShareOfPlayersByRebalanceWhileTheyClickAndNoCallFails() throws Exception {
        playerSettings = players -> players.rebalance(Duration.ofMillis(200), 8);
        Braid a = logic("logic-a", true);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        Map<String, Long> told = playersClickedOnce(gateway);
        List<String> tokens = List.copyOf(told.keySet());
        Clicking clicking = new Clicking(gateway, told, true, Set.of());
        try (clicking) {
            Braid b = logic("logic-b", true);
            Await.until(WAIT, "logic-b holds its share (at least 16 of 40 players)", () ->
                    b.linkCache().linkCountAsync("logic-b").join() >= 16);
            Await.until(WAIT, "the rebalance settles within a tenth of the shares", () -> {
                long onA = a.linkCache().linkCountAsync("logic-a").join();
                long onB = b.linkCache().linkCountAsync("logic-b").join();
                return onA + onB == PLAYERS && Math.abs(onA - onB) <= 4;
            });
        }

        assertThat(clicking.failures).as("calls that failed or skipped a click while players moved").isEmpty();
        assertThat(overlaps).as("pieces of one player's work that overlapped (two owners)").hasValue(0);
        long movedToB = events.stream().filter(e -> e.startsWith("logic-b") && e.endsWith("activate HANDOFF")).count();
        assertThat(movedToB).as("players handed to logic-b with their state").isBetween(16L, 24L);
        for (String token : tokens) {
            assertThat(click(gateway, token)).as("%s's clicks, all still counted", token).isEqualTo(told.get(token) + 1);
        }
    }
}
