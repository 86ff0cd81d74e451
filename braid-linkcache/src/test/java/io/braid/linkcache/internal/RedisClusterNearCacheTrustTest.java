package io.braid.linkcache.internal;

import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The near cache's trust on a 3-master Redis Cluster: a cache's invalidation subscription lives
 * on one node, and invalidations reach it over the cluster bus.
 */
class RedisClusterNearCacheTrustTest extends NearCacheTrustContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @BeforeEach
    void emptyRedis() {
        redis.cluster().awaitHealthy();
        redis.cluster().flushAll();
    }

    @Override
    protected RedisConnector connect() {
        return RedisConnector.connectCluster(redis.cluster().uris());
    }

    @Override
    protected void killPubSubConnections() {
        for (RedisServer node : redis.cluster().nodes()) {
            try (RedisProbe probe = node.probe()) {
                probe.command("CLIENT", "KILL", "TYPE", "pubsub");
            }
        }
    }

    @Override
    protected void flushAll() {
        redis.cluster().flushAll();
    }

    /** Every master restarts; the nodes keep no data (no persistence) but keep their Cluster identity. */
    @Override
    protected void restartEmpty() {
        for (RedisServer node : redis.cluster().nodes()) {
            node.restart();
        }
        redis.cluster().awaitHealthy();
    }
}
