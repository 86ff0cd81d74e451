package io.braid.linkcache.internal;

import static io.braid.linkcache.internal.LinkCacheContract.await;
import static io.braid.linkcache.internal.LinkCacheContract.failureOf;
import static io.braid.linkcache.internal.LinkCacheContract.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.PlayerStore;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.BusyRedis;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The contract on one real redis-server, plus the key layout and Redis killed and back. */
class RedisPlayerStoreTest extends PlayerStoreContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private RedisProbe probe;

    @BeforeEach
    void emptyRedis() {
        if (!redis.server().isRunning()) {
            redis.server().restart(); // a test that killed it failed before restarting it
        }
        probe = redis.server().probe();
        probe.command("FLUSHALL");
    }

    @AfterEach
    void closeProbe() {
        probe.close();
    }

    @Override
    protected Member newMember() {
        return member(RedisLinkCacheTest.BULK_COMMAND_TIMEOUT);
    }

    private Member member(Duration commandTimeout) {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri(), commandTimeout));
        return new Member(new RedisPlayerStore(connector, RedisPlayerStore.DEFAULT_SHARDS),
                RedisLinkCache.builder(connector).build());
    }

    /** The snapshots of a token: braid:{ls:K}:st:T, in the shard (and the Cluster slot) of its links. */
    static String storeKey(String token) {
        return "braid:{ls:" + RedisLinkCacheTest.shard(token) + "}:st:" + token;
    }

    @Test
    void snapshotsLiveInTheDocumentedKeyBesideTheTokensLinks() {
        Member member = member();
        Link logic = member.links().claim("player-1", node("logic-1", "logic"));
        assertThat(await(member.store().saveAsync("logic", "player-1", logic.epoch(), "state".getBytes()))).isTrue();
        assertThat(await(member.store().saveAsync("chat", "player-1", 3, "chat".getBytes()))).isTrue();

        assertThat(probe.command("HGETALL", storeKey("player-1"))).as("each snapshot with its epoch beside it")
                .isEqualTo(List.of("logic", "state", "epoch\u0000logic", Long.toString(logic.epoch()),
                        "chat", "chat", "epoch\u0000chat", "3"));
        assertThat(RedisLinkCacheTest.bucketKey("player-1")).startsWith(storeKey("player-1").split(":st:")[0]);

        assertThat(member.links().unlink("player-1")).isEqualTo(1);
        assertThat(probe.command("EXISTS", storeKey("player-1"))).as("a removed link leaves the snapshot").isEqualTo(1L);
        assertThat(await(member.store().deleteAsync("logic", "player-1", logic.epoch()))).isTrue();
        assertThat(await(member.store().deleteAsync("chat", "player-1", 3))).isTrue();
        assertThat(probe.command("EXISTS", storeKey("player-1"))).as("nothing left once both are deleted").isEqualTo(0L);
    }

    @Test
    void aSnapshotWrittenByHandWithoutItsEpochLoadsUnderEpochZero() {
        PlayerStore store = member().store();
        probe.command("HSET", storeKey("player-1"), "logic", "by hand");

        assertThat(await(store.loadAsync("logic", "player-1")))
                .contains(new PlayerStore.Saved(0, "by hand".getBytes()));
        assertThat(await(store.saveAsync("logic", "player-1", 0, new byte[] {1}))).isTrue();
    }

    @Test
    void redisKilledFailsSaveLoadAndDeleteWithUnavailableAndTheSameStoreWorksAfterARestart() {
        PlayerStore store = member(RedisConnector.DEFAULT_COMMAND_TIMEOUT).store();
        assertThat(await(store.saveAsync("logic", "player-1", 1, new byte[] {1}))).isTrue();

        redis.server().kill();
        long start = System.nanoTime();
        Map<String, Supplier<CompletableFuture<?>>> calls = new LinkedHashMap<>();
        calls.put("saveAsync", () -> store.saveAsync("logic", "player-1", 2, new byte[] {2}));
        calls.put("loadAsync", () -> store.loadAsync("logic", "player-1"));
        calls.put("deleteAsync", () -> store.deleteAsync("logic", "player-1", 2));
        for (Map.Entry<String, Supplier<CompletableFuture<?>>> call : calls.entrySet()) {
            Throwable failure = failureOf(call.getKey(), call.getValue());
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(failure).as(call.getKey()).isInstanceOf(BraidException.class);
            assertThat(((BraidException) failure).code()).as("code of %s: %s", call.getKey(), failure)
                    .isEqualTo(Code.UNAVAILABLE);
            assertThat(elapsedMillis).as("%s failed after ms", call.getKey()).isLessThan(3_000);
        }

        redis.server().restart(); // comes back empty: no persistence

        Await.until(Duration.ofSeconds(10), "the same store saves again", () -> {
            try {
                return await(store.saveAsync("logic", "player-1", 3, new byte[] {3}));
            } catch (BraidException stillDown) {
                return false;
            }
        });
        assertThat(await(store.loadAsync("logic", "player-1"))).contains(new PlayerStore.Saved(3, new byte[] {3}));
        assertThat(await(store.deleteAsync("logic", "player-1", 3))).isTrue();
    }

    /** A store closed before its connector: its own connection is gone, the connector still works. */
    @Test
    void closingTheStoreLeavesTheConnectorOpen() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));
        RedisPlayerStore store = new RedisPlayerStore(connector, RedisPlayerStore.DEFAULT_SHARDS);
        assertThat(await(store.saveAsync("logic", "player-1", 1, new byte[] {1}))).isTrue();

        store.close();
        store.close(); // idempotent

        Throwable failure = failureOf("save after close", () -> store.saveAsync("logic", "player-1", 1, new byte[0]));
        assertThat(((BraidException) failure).code()).isEqualTo(Code.UNAVAILABLE);
        assertThat(connector.async().hexists(storeKey("player-1"), "logic").toCompletableFuture().join()).isTrue();
        try (LinkCache links = RedisLinkCache.builder(connector).build()) {
            assertThat(links.target("player-1", "logic")).isEmpty();
        }
    }

    /**
     * A burst of 1 KiB snapshot writes (a drain hands thousands of players over at once) while another
     * client keeps Redis in 25 ms scripts: Redis answers every save well within the 1 s command
     * timeout, so none may fail; only a command sent long before its turn could time out. Size:
     * {@code playerstore.saveBurst}.
     */
    @Test
    void aBurstOfSavesLargerThanRedisAnswersWithinTheTimeoutQueuesAndNoneFails() throws Exception {
        int burst = Integer.getInteger("playerstore.saveBurst", 8000);
        PlayerStore store = member(Duration.ofSeconds(1)).store();
        int failed = 0;
        String firstFailure = null;
        try (BusyRedis busy = BusyRedis.start(redis.server(), Duration.ofMillis(25))) {
            List<CompletableFuture<Boolean>> sent = new java.util.ArrayList<>(burst);
            // 1 KiB each: Redis reads a client's pipeline about 16 KiB per turn, between two scripts
            byte[] snapshot = new byte[1024];
            for (int i = 0; i < burst; i++) {
                sent.add(store.saveAsync("logic", "burst-" + i, 1, snapshot));
            }
            for (CompletableFuture<Boolean> save : sent) {
                try {
                    assertThat(save.get(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                } catch (java.util.concurrent.ExecutionException e) {
                    failed++;
                    firstFailure = firstFailure == null ? e.getCause().toString() : firstFailure;
                }
            }
        }
        assertThat(failed).as("saves that failed; the first: %s", firstFailure).isZero();
        assertThat(probe.command("HEXISTS", storeKey("burst-" + (burst - 1)), "logic")).as("the last save").isEqualTo(1L);
    }
}
