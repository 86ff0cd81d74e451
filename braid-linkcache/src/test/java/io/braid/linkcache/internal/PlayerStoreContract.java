package io.braid.linkcache.internal;

import static io.braid.linkcache.internal.LinkCacheContract.await;
import static io.braid.linkcache.internal.LinkCacheContract.failureOf;
import static io.braid.linkcache.internal.LinkCacheContract.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.PlayerStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link PlayerStore} does, run against each backend: snapshots round-trip, and a save
 * under an epoch older than the token's link or than the saved snapshot is refused. A "member" is
 * one process's store and link cache on the same backend (for Redis, its own connection), so the old
 * and the new owner of a player are two members.
 */
abstract class PlayerStoreContract {
    private final List<AutoCloseable> opened = new ArrayList<>();

    /** One process's store and the link cache it shares the backend with. */
    protected record Member(PlayerStore store, LinkCache links) {
    }

    /** A new process's store and link cache on the same backend; closed by {@link #member()}'s caller's cleanup. */
    protected abstract Member newMember();

    protected final Member member() {
        Member member = newMember();
        if (member.store() instanceof AutoCloseable closeable) {
            opened.add(closeable);
        }
        opened.add(member.links());
        return member;
    }

    /** Closes {@code resource} after the members, last registered first. */
    protected final <T extends AutoCloseable> T closeAfterMembers(T resource) {
        opened.add(0, resource);
        return resource;
    }

    @AfterEach
    void closeMembers() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    static byte[] bytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Every byte value, in order: a snapshot that is no text in any encoding. */
    static byte[] everyByte() {
        byte[] bytes = new byte[256];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        return bytes;
    }

    @Test
    void aSavedSnapshotLoadsBackByteForByteAndNothingSavedLoadsEmpty() {
        PlayerStore store = member().store();
        PlayerStore other = member().store();

        assertThat(await(store.loadAsync("logic", "nobody"))).isEmpty();

        Map<String, byte[]> snapshots = new LinkedHashMap<>();
        snapshots.put("none", new byte[0]);
        snapshots.put("every-byte", everyByte());
        snapshots.put("one-mib", bytes(1 << 20, 42));
        long epoch = 7;
        for (Map.Entry<String, byte[]> snapshot : snapshots.entrySet()) {
            String token = "player-" + snapshot.getKey();
            assertThat(await(store.saveAsync("logic", token, epoch, snapshot.getValue()))).as(token).isTrue();

            Optional<PlayerStore.Saved> loaded = await(other.loadAsync("logic", token));
            assertThat(loaded).as(token).isPresent();
            assertThat(loaded.get().epoch()).as(token).isEqualTo(epoch);
            assertThat(loaded.get().snapshot()).as(token).isEqualTo(snapshot.getValue());
        }
        assertThat(await(store.loadAsync("chat", "player-every-byte"))).as("another service's snapshot").isEmpty();
        assertThat(await(store.loadAsync("logic", "nobody"))).isEmpty();
    }

    @Test
    void aLaterSaveUnderTheSameEpochReplacesTheSnapshotAndTheCallersArrayIsNotKept() {
        PlayerStore store = member().store();
        byte[] first = bytes(100, 1);
        byte[] expected = first.clone();

        assertThat(await(store.saveAsync("logic", "player-1", 5, first))).isTrue();
        first[0]++; // the caller reuses its buffer
        assertThat(await(store.loadAsync("logic", "player-1"))).contains(new PlayerStore.Saved(5, expected));

        byte[] second = bytes(10, 2);
        assertThat(await(store.saveAsync("logic", "player-1", 5, second))).isTrue();
        PlayerStore.Saved loaded = await(store.loadAsync("logic", "player-1")).orElseThrow();
        assertThat(loaded).isEqualTo(new PlayerStore.Saved(5, second));
        loaded.snapshot()[0]++; // a loader changes what it got
        assertThat(await(store.loadAsync("logic", "player-1"))).contains(new PlayerStore.Saved(5, bytes(10, 2)));
    }

    @Test
    void aStaleOwnersSaveIsRefusedOnceItsLinkMovedAndTheNewOwnersIsAccepted() {
        Member oldOwner = member();
        Member newOwner = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        Link first = oldOwner.links().claim("player-1", a);
        assertThat(await(oldOwner.store().saveAsync("logic", "player-1", first.epoch(), bytes(8, 1)))).isTrue();

        Link moved = newOwner.links().move("player-1", first, b).orElseThrow();
        assertThat(moved.epoch()).isGreaterThan(first.epoch());

        // The old owner resumes after the move, before the new owner saved anything.
        assertThat(await(oldOwner.store().saveAsync("logic", "player-1", first.epoch(), bytes(8, 2))))
                .as("the old owner's save after its link moved").isFalse();
        assertThat(await(newOwner.store().loadAsync("logic", "player-1")))
                .as("the refused save wrote nothing").contains(new PlayerStore.Saved(first.epoch(), bytes(8, 1)));

        assertThat(await(newOwner.store().saveAsync("logic", "player-1", moved.epoch(), bytes(8, 3))))
                .as("the new owner's save").isTrue();
        assertThat(await(oldOwner.store().saveAsync("logic", "player-1", first.epoch(), bytes(8, 4))))
                .as("the old owner's save after the new owner saved").isFalse();
        assertThat(await(oldOwner.store().loadAsync("logic", "player-1")))
                .contains(new PlayerStore.Saved(moved.epoch(), bytes(8, 3)));
    }

    @Test
    void aStaleOwnersSaveIsRefusedAfterARelinkElsewhere() {
        Member oldOwner = member();
        Member newOwner = member();
        Link first = oldOwner.links().claim("player-1", node("logic-a", "logic"));
        Link relinked = newOwner.links().relink("player-1", node("logic-b", "logic"));

        assertThat(await(oldOwner.store().saveAsync("logic", "player-1", first.epoch(), bytes(8, 1)))).isFalse();
        assertThat(await(oldOwner.store().loadAsync("logic", "player-1"))).isEmpty();
        assertThat(await(newOwner.store().saveAsync("logic", "player-1", relinked.epoch(), bytes(8, 2)))).isTrue();
    }

    @Test
    void aSavedSnapshotOfAHigherEpochRefusesALowerOne() {
        PlayerStore store = member().store();

        assertThat(await(store.saveAsync("logic", "player-1", 10, bytes(4, 1)))).isTrue();
        assertThat(await(store.saveAsync("logic", "player-1", 9, bytes(4, 2)))).as("a lower epoch").isFalse();
        assertThat(await(store.saveAsync("logic", "player-1", 0, bytes(4, 3)))).as("epoch 0").isFalse();
        assertThat(await(store.loadAsync("logic", "player-1"))).contains(new PlayerStore.Saved(10, bytes(4, 1)));

        assertThat(await(store.saveAsync("logic", "player-1", 11, bytes(4, 4)))).as("a higher epoch").isTrue();
        assertThat(await(store.loadAsync("logic", "player-1"))).contains(new PlayerStore.Saved(11, bytes(4, 4)));
    }

    /** Epochs are longs; a store that compares them as doubles (Lua numbers) takes these two for equal. */
    @Test
    void epochsCompareExactlyUpToLongMaxValue() {
        PlayerStore store = member().store();

        assertThat(await(store.saveAsync("logic", "player-1", Long.MAX_VALUE - 1, bytes(4, 1)))).isTrue();
        assertThat(await(store.saveAsync("logic", "player-1", Long.MAX_VALUE - 2, bytes(4, 2)))).isFalse();
        assertThat(await(store.saveAsync("logic", "player-1", 999_999_999_999L, bytes(4, 3))))
                .as("fewer digits").isFalse();
        assertThat(await(store.deleteAsync("logic", "player-1", Long.MAX_VALUE - 2))).isFalse();
        assertThat(await(store.loadAsync("logic", "player-1")))
                .contains(new PlayerStore.Saved(Long.MAX_VALUE - 1, bytes(4, 1)));
        assertThat(await(store.saveAsync("logic", "player-1", Long.MAX_VALUE, bytes(4, 4)))).isTrue();
    }

    @Test
    void aSaveAfterTheLinkWasRemovedIsAcceptedUnderTheLastEpoch() {
        Member owner = member();
        Node a = node("logic-a", "logic");

        Link left = owner.links().claim("player-1", a);
        assertThat(owner.links().unlink("player-1")).isEqualTo(1);
        assertThat(await(owner.store().saveAsync("logic", "player-1", left.epoch(), bytes(8, 1))))
                .as("after unlink(token)").isTrue();

        Link again = owner.links().claim("player-2", a);
        assertThat(owner.links().unlink("player-2", a)).isTrue();
        assertThat(await(owner.store().saveAsync("logic", "player-2", again.epoch(), bytes(8, 2))))
                .as("after unlink(token, owner)").isTrue();

        assertThat(await(owner.store().loadAsync("logic", "player-1")))
                .contains(new PlayerStore.Saved(left.epoch(), bytes(8, 1)));
    }

    @Test
    void aLinkInAnotherServiceDoesNotRefuseASave() {
        Member member = member();
        Link chat = member.links().claim("player-1", node("chat-1", "chat"));

        assertThat(await(member.store().saveAsync("logic", "player-1", chat.epoch() - 1, bytes(4, 1)))).isTrue();
        assertThat(await(member.store().saveAsync("chat", "player-1", chat.epoch() - 1, bytes(4, 2))))
                .as("the chat link refuses its own service's older save").isFalse();
        assertThat(await(member.store().saveAsync("chat", "player-1", chat.epoch(), bytes(4, 3)))).isTrue();
        assertThat(await(member.store().loadAsync("logic", "player-1")))
                .contains(new PlayerStore.Saved(chat.epoch() - 1, bytes(4, 1)));
        assertThat(await(member.store().loadAsync("chat", "player-1")))
                .contains(new PlayerStore.Saved(chat.epoch(), bytes(4, 3)));
    }

    @Test
    void deleteRemovesOnlyASnapshotOfTheSameOrALowerEpoch() {
        PlayerStore store = member().store();
        assertThat(await(store.deleteAsync("logic", "player-1", 10))).as("nothing saved").isFalse();

        assertThat(await(store.saveAsync("logic", "player-1", 10, bytes(4, 1)))).isTrue();
        assertThat(await(store.deleteAsync("logic", "player-1", 9))).as("a newer owner's snapshot").isFalse();
        assertThat(await(store.loadAsync("logic", "player-1"))).isPresent();
        assertThat(await(store.deleteAsync("logic", "player-1", 10))).isTrue();
        assertThat(await(store.loadAsync("logic", "player-1"))).isEmpty();
        assertThat(await(store.deleteAsync("logic", "player-1", 10))).as("deleted already").isFalse();

        assertThat(await(store.saveAsync("logic", "player-2", 3, bytes(4, 1)))).isTrue();
        assertThat(await(store.saveAsync("chat", "player-2", 3, bytes(4, 2)))).isTrue();
        assertThat(await(store.deleteAsync("logic", "player-2", 4))).as("an older snapshot").isTrue();
        assertThat(await(store.loadAsync("chat", "player-2"))).as("another service's snapshot stays")
                .contains(new PlayerStore.Saved(3, bytes(4, 2)));
        assertThat(await(store.saveAsync("logic", "player-2", 1, bytes(4, 3))))
                .as("a save after a delete is fenced by the link only").isTrue();
    }

    @Test
    void badArgumentsFailTheFutureWithInvalidArgumentAndNeverThrow() {
        PlayerStore store = member().store();
        Map<String, Supplier<CompletableFuture<?>>> calls = new LinkedHashMap<>();
        calls.put("load: blank service", () -> store.loadAsync(" ", "player-1"));
        calls.put("load: null token", () -> store.loadAsync("logic", null));
        calls.put("save: null service", () -> store.saveAsync(null, "player-1", 1, new byte[0]));
        calls.put("save: service with NUL", () -> store.saveAsync("lo\u0000gic", "player-1", 1, new byte[0]));
        calls.put("save: blank token", () -> store.saveAsync("logic", "", 1, new byte[0]));
        calls.put("save: negative epoch", () -> store.saveAsync("logic", "player-1", -1, new byte[0]));
        calls.put("save: null snapshot", () -> store.saveAsync("logic", "player-1", 1, null));
        calls.put("delete: negative epoch", () -> store.deleteAsync("logic", "player-1", -1));
        calls.put("delete: blank token", () -> store.deleteAsync("logic", "  ", 1));
        for (Map.Entry<String, Supplier<CompletableFuture<?>>> call : calls.entrySet()) {
            CompletableFuture<?> future;
            try {
                future = call.getValue().get();
            } catch (RuntimeException thrown) {
                throw new AssertionError(call.getKey() + " threw instead of failing its future", thrown);
            }
            Throwable failure = failureOf(call.getKey(), () -> future);
            assertThat(failure).as(call.getKey()).isInstanceOf(BraidException.class);
            assertThat(((BraidException) failure).code()).as(call.getKey()).isEqualTo(Code.INVALID_ARGUMENT);
        }
        String message = failureOf("negative epoch", () -> store.saveAsync("logic", "p", -3, new byte[0])).getMessage();
        assertThat(message).contains("epoch").contains("-3");
    }

    @Test
    void ofConcurrentSavesUnderTwoEpochsTheOlderNeverLandsAfterTheNewer() {
        Member oldOwner = member();
        Member newOwner = member();
        List<CompletableFuture<Boolean>> olds = new ArrayList<>();
        List<CompletableFuture<Boolean>> news = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String token = "player-" + i;
            olds.add(oldOwner.store().saveAsync("logic", token, 1, bytes(16, 1)));
            news.add(newOwner.store().saveAsync("logic", token, 2, bytes(16, 2)));
        }
        for (int i = 0; i < 200; i++) {
            String token = "player-" + i;
            assertThat(await(news.get(i))).as(token).isTrue();
            await(olds.get(i)); // either, depending on which came first
            assertThat(await(oldOwner.store().loadAsync("logic", token))).as(token)
                    .contains(new PlayerStore.Saved(2, bytes(16, 2)));
        }
    }
}
