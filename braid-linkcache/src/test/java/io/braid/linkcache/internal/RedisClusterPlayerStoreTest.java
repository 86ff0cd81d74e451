package io.braid.linkcache.internal;

import static io.braid.linkcache.internal.LinkCacheContract.await;
import static io.braid.linkcache.internal.LinkCacheContract.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Link;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The same contract on a 3-master Redis Cluster: each write is one script on the slot of the token's links. */
class RedisClusterPlayerStoreTest extends PlayerStoreContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @BeforeEach
    void emptyRedis() {
        redis.cluster().flushAll();
    }

    @Override
    protected Member newMember() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connectCluster(redis.cluster().uris(),
                RedisLinkCacheTest.BULK_COMMAND_TIMEOUT));
        return new Member(new RedisPlayerStore(connector, RedisPlayerStore.DEFAULT_SHARDS),
                RedisLinkCache.builder(connector).build());
    }

    @Test
    void snapshotsSpreadOverEveryMasterEachBesideItsTokensLinks() {
        Member member = member();
        Set<Integer> masters = new HashSet<>();
        for (int i = 0; i < 60; i++) {
            String token = "player-" + i;
            Link link = member.links().claim(token, node("logic-1", "logic"));
            assertThat(await(member.store().saveAsync("logic", token, link.epoch(), new byte[] {(byte) i}))).isTrue();

            RedisServer master = redis.cluster().masterOf(RedisPlayerStoreTest.storeKey(token));
            assertThat(master).as(token).isEqualTo(redis.cluster().masterOf(RedisLinkCacheTest.bucketKey(token)));
            try (RedisProbe probe = master.probe()) {
                assertThat(probe.command("EXISTS", RedisPlayerStoreTest.storeKey(token))).as(token).isEqualTo(1L);
            }
            masters.add(master.port());
        }
        assertThat(masters).as("masters holding snapshots").hasSize(3);
    }
}
