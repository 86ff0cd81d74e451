package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.PlayerStates;
import io.braid.monitor.internal.BraidMeters;
import io.braid.testkit.Await;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node's player and fence meters ({@code braid.players.*}, {@code braid.node.fenced}) against
 * what real nodes of the in-memory control plane did: a drain that hands every player over, calls
 * saved write-through, and a lapse that closes the self-fence for its quarantine.
 */
class PlayerMetersTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));
    private static final int PLAYERS = 12;

    private final InMemoryControlPlane plane = new InMemoryControlPlane("player-meters-" + System.nanoTime());
    private final List<Braid> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    /** A player's clicks; its snapshot is the count. */
    private static PlayerStates<long[]> clicks() {
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
        Braid node = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1).inMemory(plane).start();
        nodes.add(node);
        return node;
    }

    private static long click(Braid gateway, String token) {
        return gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join()
                .getValue();
    }

    private static double count(Braid node, String name, String tag, String value) {
        var counter = node.meterRegistry().find(name).tag(BraidMeters.TAG_SERVICE, "logic").tag(tag, value).counter();
        return counter == null ? -1 : counter.count();
    }

    private static double gauge(Braid node, String name) {
        var gauge = node.meterRegistry().find(name).tag(BraidMeters.TAG_SERVICE, "logic").gauge();
        return gauge == null ? -1 : gauge.value();
    }

    @Test
    void aDrainShowsAsHandoffsOnTheOldOwnerAndHandoffActivationsOnTheNewOne() throws Exception {
        Braid a = logic("logic-a", players -> players);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < PLAYERS; i++) {
            click(gateway, "player-" + i);
        }
        assertThat(gauge(a, BraidMeters.PLAYERS_ACTIVE)).isEqualTo(PLAYERS);
        assertThat(count(a, BraidMeters.PLAYERS_ACTIVATIONS, BraidMeters.TAG_HOW, "fresh")).isEqualTo(PLAYERS);
        Braid b = logic("logic-b", players -> players);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        a.drain().get(30, TimeUnit.SECONDS);

        assertThat(count(a, BraidMeters.PLAYERS_HANDOFFS, BraidMeters.TAG_OUTCOME, "handed_over")).isEqualTo(PLAYERS);
        assertThat(count(a, BraidMeters.PLAYERS_HANDOFFS, BraidMeters.TAG_OUTCOME, "stayed")).isZero();
        assertThat(count(a, BraidMeters.PLAYERS_DEACTIVATIONS, BraidMeters.TAG_WHY, "moved")).isEqualTo(PLAYERS);
        assertThat(gauge(a, BraidMeters.PLAYERS_ACTIVE)).isZero();
        var took = a.meterRegistry().find(BraidMeters.PLAYERS_HANDOFF_DURATION).timer();
        assertThat(took).isNotNull();
        assertThat(took.count()).isEqualTo(PLAYERS);
        assertThat(took.totalTime(TimeUnit.NANOSECONDS)).isPositive();
        Await.until(WAIT, "logic-b activated every player from its handoff",
                () -> count(b, BraidMeters.PLAYERS_ACTIVATIONS, BraidMeters.TAG_HOW, "handoff") == PLAYERS);
        assertThat(b.meterRegistry().find(BraidMeters.PLAYERS_RECEIVED).counter().count()).isEqualTo(PLAYERS);
        assertThat(count(b, BraidMeters.PLAYERS_ACTIVATIONS, BraidMeters.TAG_HOW, "fresh")).isZero();
        assertThat(gauge(b, BraidMeters.PLAYERS_ACTIVE)).isEqualTo(PLAYERS);
        assertThat(click(gateway, "player-0")).as("the state came along").isEqualTo(2);
    }

    @Test
    void aRebalanceCountsItsMovesAndTheirHandoffs() {
        UnaryOperator<Players<long[]>> rebalancing = players -> players.rebalance(Duration.ofMillis(200), 4);
        Braid a = logic("logic-a", rebalancing);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < PLAYERS; i++) {
            click(gateway, "player-" + i);
        }
        Braid b = logic("logic-b", rebalancing);

        // logic-a counts a hand-over once the target was told, so logic-b may count first.
        Await.until(WAIT, "logic-b got its share and logic-a counted it", () ->
                gauge(b, BraidMeters.PLAYERS_ACTIVE) >= PLAYERS / 2 - 1
                && count(a, BraidMeters.PLAYERS_HANDOFFS, BraidMeters.TAG_OUTCOME, "handed_over") >= PLAYERS / 2 - 1);
        double handedOver = count(a, BraidMeters.PLAYERS_HANDOFFS, BraidMeters.TAG_OUTCOME, "handed_over");
        double moves = a.meterRegistry().find(BraidMeters.PLAYERS_REBALANCE_MOVES).counter().count();
        assertThat(moves).as("moves the rounds set out to make").isGreaterThanOrEqualTo(handedOver);
        // (A player between the two nodes, handed over but not yet activated, is active on neither.)
        Await.until(WAIT, "every player active on exactly one node",
                () -> gauge(a, BraidMeters.PLAYERS_ACTIVE) + gauge(b, BraidMeters.PLAYERS_ACTIVE) == PLAYERS);
    }

    @Test
    void everyCallSavedWriteThroughIsCounted() {
        Braid logic = logic("logic-1", Players::writeThrough);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-1", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < 5; i++) {
            click(gateway, "player-" + (i % 2));
        }
        assertThat(count(logic, BraidMeters.PLAYERS_SAVES, BraidMeters.TAG_OUTCOME, "saved")).isEqualTo(5);
        assertThat(count(logic, BraidMeters.PLAYERS_SAVES, BraidMeters.TAG_OUTCOME, "refused")).isZero();
        assertThat(count(logic, BraidMeters.PLAYERS_SAVES, BraidMeters.TAG_OUTCOME, "failed")).isZero();
        assertThat(gauge(logic, BraidMeters.PLAYERS_ACTIVE)).isEqualTo(2);
    }

    @Test
    void theFenceGaugeIsOneWhileALapseKeepsTheFenceClosedAndZeroAfter() {
        Braid logic = logic("logic-1", players -> players);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-1", () -> gateway.discover().nodes("logic").size() == 1);
        click(gateway, "player-1");
        assertThat(gauge(logic, BraidMeters.NODE_FENCED)).isZero();

        // The cluster takes logic-1 for gone: its links are cleared while it runs (a lapse); no call follows.
        gateway.linkCache().down(logic.node());

        Await.until(WAIT, "logic-1 reports itself fenced", () -> gauge(logic, BraidMeters.NODE_FENCED) == 1);
        assertThat(logic.meterRegistry().find(BraidMeters.NODE_FENCE_CLOSURES).counter().count()).isEqualTo(1);
        Await.until(WAIT, "the quarantine ends: logic-1 reports itself open again",
                () -> gauge(logic, BraidMeters.NODE_FENCED) == 0);
        assertThat(logic.meterRegistry().find(BraidMeters.NODE_FENCE_CLOSURES).counter().count()).isEqualTo(1);
    }
}
