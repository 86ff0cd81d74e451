package io.braid.elector.internal;

import io.braid.api.Elector;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The same contract on a 3-master Redis Cluster. */
class RedisClusterElectorTest extends ElectorContract {
    private static final Duration CONTRACT_LEASE = Duration.ofMillis(900);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    /**
     * The contract's electors run on a 900 ms lease: the first leader of a new election waits out
     * one whole lease before it leads, 0.9 s here instead of the default 3 s in every test.
     */
    @Override
    protected Elector newElector(String service, String nodeId) {
        RedisConnector connector = closeAfterElectors(RedisConnector.connectCluster(redis.cluster().uris()));
        return RedisElector.builder(connector).service(service).nodeId(nodeId).lease(CONTRACT_LEASE).build();
    }

    @Override
    protected Duration handoverBound() {
        return Duration.ofSeconds(1).plusMillis(300);
    }
}
