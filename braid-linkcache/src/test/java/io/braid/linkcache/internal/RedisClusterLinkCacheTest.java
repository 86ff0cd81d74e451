package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.internal.LinkWatcher;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The same contract on a 3-master Redis Cluster: every change is one script on one slot. */
class RedisClusterLinkCacheTest extends LinkCacheContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @BeforeEach
    void emptyRedis() {
        redis.cluster().flushAll();
    }

    @Override
    protected LinkCache newMember() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connectCluster(redis.cluster().uris(),
                RedisLinkCacheTest.BULK_COMMAND_TIMEOUT));
        return RedisLinkCache.builder(connector).build();
    }

    @Override
    protected LinkCache newMember(LinkWatcher watcher) {
        RedisConnector connector = closeAfterMembers(RedisConnector.connectCluster(redis.cluster().uris(),
                RedisLinkCacheTest.BULK_COMMAND_TIMEOUT));
        return RedisLinkCache.builder(connector).watcher(watcher).build();
    }

    /** Every node restarts without its data (no persistence), keeping its Cluster identity. */
    @Override
    protected void loseAllData() {
        for (RedisServer node : redis.cluster().nodes()) {
            node.restart();
        }
        redis.cluster().awaitHealthy();
    }

    /** Published on the master of the token's slot, where the scripts publish its changes: it reaches a subscriber after them. */
    @Override
    protected boolean deliverLate(String token, String service, Link older) {
        try (RedisProbe probe = redis.cluster().masterOf(RedisLinkCacheTest.bucketKey(token)).probe()) {
            probe.command("PUBLISH", RedisLinkCache.CHANNEL, RedisLinkCacheTest.changeMessage(token, service, older));
        }
        return true;
    }

    @Test
    void theShardsSpreadOverEveryMaster() {
        LinkCache cache = member();
        for (int i = 0; i < 200; i++) {
            cache.link("player-" + i, node("logic-1", "logic"));
        }

        for (RedisServer node : redis.cluster().nodes()) {
            try (RedisProbe probe = node.probe()) {
                assertThat((Long) probe.command("DBSIZE")).as("keys on %s", node).isPositive();
            }
        }
        assertThat(cache.linkCount("logic-1")).isEqualTo(200);
        assertThat(cache.down(node("logic-1", "logic"))).isEqualTo(200);
        assertThat(cache.linkCount("logic-1")).isZero();
    }
}
