package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.PlayerStates;
import io.braid.api.PlayerStore;
import io.braid.testkit.Await;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Players saved to a store, on real nodes of the in-memory control plane (whose store is the
 * plane's): saved when they leave and activated from the store on their next call; saved every
 * interval without that keeping them from going idle; saved after every call before it answers
 * (write-through), with a store that fails making the call fail UNAVAILABLE; a user's own store.
 */
class PlayerSavingTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));

    private final InMemoryControlPlane plane = new InMemoryControlPlane("saving-" + System.nanoTime());
    private final List<Braid> nodes = new ArrayList<>();
    private final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    private Players<long[]> counters(UnaryOperator<Players<long[]>> saving) {
        return saving.apply(Players.of(new PlayerStates<long[]>() {
            @Override
            public long[] activate(String token, Activation how, byte[] snapshot) {
                events.add(token + " activate " + how);
                return new long[] {how == Activation.FRESH ? 0 : ByteBuffer.wrap(snapshot).getLong()};
            }

            @Override
            public byte[] snapshot(long[] state) {
                return ByteBuffer.allocate(Long.BYTES).putLong(state[0]).array();
            }

            @Override
            public void deactivate(long[] state, Deactivation why) {
                events.add("deactivate " + why);
            }
        }).handle("click", StringValue.parser(), (player, ctx, req) -> Int64Value.of(++player.state()[0])));
    }

    private Braid gatewayAndLogic(Players<long[]> players) {
        Braid logic = Braid.builder().service("logic").nodeId("logic-a").inMemory(plane).ioThreads(1).players(players)
                .start();
        nodes.add(logic);
        Braid gateway = Braid.builder().service("gateway").nodeId("gateway-1").inMemory(plane).ioThreads(1).start();
        nodes.add(gateway);
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        return gateway;
    }

    private static long click(Braid gateway, String token) {
        return gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join()
                .getValue();
    }

    private long saved(String token) {
        return plane.playerStore().loadAsync("logic", token).join()
                .map(s -> ByteBuffer.wrap(s.snapshot()).getLong()).orElse(-1L);
    }

    @Test
    void aPlayerSavedWhenItLeavesIsActivatedFromTheStoreOnItsNextCall() {
        Braid gateway = gatewayAndLogic(counters(Players::saveOnDeactivation));
        for (int i = 0; i < 3; i++) {
            click(gateway, "player-1");
        }
        assertThat(saved("player-1")).as("nothing saved while it plays").isEqualTo(-1);
        gateway.linkCache().unlinkAsync("player-1").join();
        Await.until(WAIT, "player-1 left", () -> events.contains("deactivate LEFT"));
        assertThat(saved("player-1")).isEqualTo(3);

        assertThat(click(gateway, "player-1")).as("its three clicks came back from the store").isEqualTo(4);
        assertThat(events).containsSubsequence("player-1 activate FRESH", "deactivate LEFT", "player-1 activate STORE");
    }

    @Test
    void withoutASavingPolicyNothingIsSavedAndALeftPlayerBeginsAfresh() {
        Braid gateway = gatewayAndLogic(counters(players -> players));
        click(gateway, "player-1");
        gateway.linkCache().unlinkAsync("player-1").join();
        Await.until(WAIT, "player-1 left", () -> events.contains("deactivate LEFT"));
        assertThat(saved("player-1")).isEqualTo(-1);
        assertThat(click(gateway, "player-1")).isEqualTo(1);
    }

    @Test
    void aPlayerSavedEveryIntervalIsSavedWhileItPlaysAndStillGoesIdle() {
        Braid gateway = gatewayAndLogic(counters(players -> players.saveEvery(Duration.ofMillis(20))
                .idleTimeout(Duration.ofMillis(400))));
        for (int i = 0; i < 5; i++) {
            click(gateway, "player-1");
        }
        Await.until(WAIT, "the fifth click is saved without the player leaving", () -> saved("player-1") == 5);
        assertThat(events).doesNotContain("deactivate IDLE");
        Await.until(WAIT, "player-1 goes idle although it is saved every 20 ms",
                () -> events.contains("deactivate IDLE"));
        assertThat(click(gateway, "player-1")).isEqualTo(6);
    }

    @Test
    void writeThroughSavesEveryCallBeforeItAnswers() {
        Braid gateway = gatewayAndLogic(counters(Players::writeThrough));
        for (int i = 1; i <= 20; i++) {
            assertThat(click(gateway, "player-1")).isEqualTo(i);
            assertThat(saved("player-1")).as("saved before click %d answered", i).isEqualTo(i);
        }
    }

    /** A user's own store (their database) that can be told to fail, recording what it is given. */
    static final class OwnStore implements PlayerStore {
        final List<Long> savedEpochs = new CopyOnWriteArrayList<>();
        volatile boolean down;
        volatile PlayerStore.Saved last;

        @Override
        public CompletableFuture<Optional<Saved>> loadAsync(String service, String token) {
            return down ? unreachable() : CompletableFuture.completedFuture(Optional.ofNullable(last));
        }

        @Override
        public CompletableFuture<Boolean> saveAsync(String service, String token, long epoch, byte[] snapshot) {
            if (down) {
                return unreachable();
            }
            savedEpochs.add(epoch);
            last = new Saved(epoch, snapshot);
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public CompletableFuture<Boolean> deleteAsync(String service, String token, long epoch) {
            return CompletableFuture.completedFuture(false);
        }

        private static <T> CompletableFuture<T> unreachable() {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "database down"));
        }
    }

    @Test
    void aUsersOwnStoreIsUsedUnderThePlayersEpochAndAFailingSaveFailsTheWriteThroughCallUnavailable() {
        OwnStore own = new OwnStore();
        Braid gateway = gatewayAndLogic(counters(players -> players.writeThrough().store(own)));
        assertThat(click(gateway, "player-1")).isEqualTo(1);
        long epoch = gateway.linkCache().linkOf("player-1", "logic").orElseThrow().epoch();
        assertThat(own.savedEpochs).containsExactly(epoch);
        assertThat(saved("player-1")).as("the plane's store is not used").isEqualTo(-1);

        own.down = true;
        assertThatThrownBy(() -> click(gateway, "player-1")).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(BraidException.class).hasMessageContaining("could not be saved")
                .extracting(e -> ((BraidException) e).code()).isEqualTo(Code.UNAVAILABLE);
        own.down = false;
        assertThat(click(gateway, "player-1")).as("the unsaved click still ran in memory").isEqualTo(3);
    }

    @Test
    void aStoreThatCannotBeReadRefusesTheActivatingCallRatherThanBeginAfresh() {
        OwnStore own = new OwnStore();
        own.last = new PlayerStore.Saved(1, ByteBuffer.allocate(Long.BYTES).putLong(41).array());
        own.down = true;
        Braid gateway = gatewayAndLogic(counters(players -> players.saveOnDeactivation().store(own)));
        assertThatThrownBy(() -> click(gateway, "player-1")).cause().hasMessageContaining("cannot be loaded")
                .extracting(e -> ((BraidException) e).code()).isEqualTo(Code.UNAVAILABLE);
        assertThat(events).isEmpty();
        own.down = false;
        assertThat(click(gateway, "player-1")).isEqualTo(42);
    }

    @Test
    void aDefinitionRefusesASaveIntervalUnder10Ms() {
        assertThatThrownBy(() -> counters(players -> players.saveEvery(Duration.ofMillis(5))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10ms");
    }
}
