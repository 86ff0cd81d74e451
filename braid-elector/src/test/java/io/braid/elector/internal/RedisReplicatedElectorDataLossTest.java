package io.braid.elector.internal;

import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Data loss under a running election on a Redis Cluster whose masters have a replica each, so every
 * acquisition and renewal is confirmed by a replica ({@code WAIT}) before a node leads on it:
 * FLUSHALL (the replicas follow), and a restart without persistence of the master that serves the
 * election's slot (back within its node timeout, it stays master and its replica copies its empty
 * data set).
 */
class RedisReplicatedElectorDataLossTest extends ElectorDataLossContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered(3, 1);

    @Override
    protected RedisConnector connect() {
        return RedisConnector.connectCluster(redis.cluster().uris());
    }

    @Override
    protected RedisProbe probe(String key) {
        return redis.cluster().masterOf(key).probe();
    }

    @Override
    protected void flushAll() {
        redis.cluster().flushAll();
    }

    /** The restarted master answers CLUSTERDOWN for about two seconds after it is back: a lease that outlasts that. */
    @Override
    protected Duration restartLease() {
        return Duration.ofSeconds(5);
    }

    @Override
    protected void restartWithoutData(String key) {
        redis.cluster().masterOf(key).restart(); // no persistence in the testkit's nodes: SHUTDOWN NOSAVE, back empty
        redis.cluster().awaitHealthy();
    }
}
