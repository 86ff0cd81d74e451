package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.PlayerStore;
import io.braid.api.internal.LinkCacheListener;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Each control plane hands out one player store, fenced by the links of the same plane: in memory
 * shared by every node of the plane, on Redis closed with the node and never closing a borrowed
 * connector.
 */
class ControlPlanePlayerStoreTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static ControlPlane open(Braid.Builder settings, Closer closer) {
        return ControlPlane.open(new NodeOptions(settings), null, closer); // no URI: nothing to connect
    }

    @Test
    void inMemoryEveryNodeOfAPlaneSharesOneStoreFencedByThePlanesLinks() {
        InMemoryControlPlane shared = new InMemoryControlPlane("store-test");
        Closer closer = new Closer();
        try {
            ControlPlane first = open(Braid.builder().service("logic").nodeId("logic-1").inMemory(shared), closer);
            ControlPlane second = open(Braid.builder().service("logic").nodeId("logic-2").inMemory(shared), closer);
            assertThat(first.playerStore()).isSameAs(first.playerStore()).isSameAs(second.playerStore());

            first.startDiscover();
            LinkCache links = first.startLinkCache(LinkCacheListener.NONE, null);
            Link old = links.claim("player-1", Node.of("logic-1", "logic", "127.0.0.1", 1, 100));
            assertThat(first.playerStore().saveAsync("logic", "player-1", old.epoch(), new byte[] {1}).join()).isTrue();
            Link moved = links.move("player-1", old, Node.of("logic-2", "logic", "127.0.0.1", 2, 100)).orElseThrow();

            assertThat(first.playerStore().saveAsync("logic", "player-1", old.epoch(), new byte[] {2}).join())
                    .as("the old owner's save after the move").isFalse();
            assertThat(second.playerStore().loadAsync("logic", "player-1").join())
                    .contains(new PlayerStore.Saved(old.epoch(), new byte[] {1}));
            assertThat(second.playerStore().saveAsync("logic", "player-1", moved.epoch(), new byte[] {3}).join()).isTrue();
        } finally {
            closer.closeAll((what, e) -> { throw new AssertionError("closing " + what, e); });
        }
    }

    @Test
    void onRedisTheStoreClosesWithTheNodeAndLeavesABorrowedConnectorOpen() {
        try (RedisConnector connector = RedisConnector.connect(redis.server().uri())) {
            Closer closer = new Closer();
            ControlPlane plane = open(Braid.builder().service("logic").nodeId("logic-1").redis(connector), closer);
            PlayerStore store = plane.playerStore();
            assertThat(plane.playerStore()).isSameAs(store);
            assertThat(store.saveAsync("logic", "player-1", 5, new byte[] {0, (byte) 0xff}).join()).isTrue();

            closer.closeAll((what, e) -> { throw new AssertionError("closing " + what, e); });

            Throwable failure = null;
            try {
                store.loadAsync("logic", "player-1").join();
            } catch (CompletionException e) {
                failure = e.getCause();
            }
            assertThat(failure).as("a load after the node closed").isInstanceOf(BraidException.class);
            assertThat(((BraidException) failure).code()).isEqualTo(Code.UNAVAILABLE);
            try (RedisPlayerStoreReader reader = new RedisPlayerStoreReader(connector)) {
                assertThat(reader.load("logic", "player-1"))
                        .as("the borrowed connector still works, and the snapshot is there")
                        .contains(new PlayerStore.Saved(5, new byte[] {0, (byte) 0xff}));
            }
        }
    }

    /** Another node's store on the same connector, to read what was saved. */
    private record RedisPlayerStoreReader(io.braid.linkcache.internal.RedisPlayerStore store) implements AutoCloseable {
        RedisPlayerStoreReader(RedisConnector connector) {
            this(new io.braid.linkcache.internal.RedisPlayerStore(connector,
                    io.braid.linkcache.internal.RedisPlayerStore.DEFAULT_SHARDS));
        }

        Optional<PlayerStore.Saved> load(String service, String token) {
            return store.loadAsync(service, token).join();
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
