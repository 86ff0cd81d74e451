package io.braid.elector.internal;

import io.braid.api.Elector;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The same contract on a 3-master Redis Cluster. */
class RedisClusterElectorTest extends ElectorContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @Override
    protected Elector newElector(String service, String nodeId) {
        RedisConnector connector = closeAfterElectors(RedisConnector.connectCluster(redis.cluster().uris()));
        return RedisElector.builder(connector).service(service).nodeId(nodeId).build();
    }

    @Override
    protected Duration handoverBound() {
        return Duration.ofSeconds(1).plusMillis(300);
    }
}
