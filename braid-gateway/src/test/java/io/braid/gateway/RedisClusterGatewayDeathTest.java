package io.braid.gateway;

import io.braid.testkit.RedisExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway's death with the session records on a Redis Cluster (every key of a session in the
 * slot of {@code {gw:<token>}}): a session resumes on another gateway with exactly the missed
 * pushes, and two raced resumes have one winner.
 */
class RedisClusterGatewayDeathTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    private GatewayFixture cluster;

    @BeforeEach
    void start() {
        redis.cluster().flushAll();
        cluster = GatewayFixture.onRedisCluster(redis.cluster().uris());
    }

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @Test
    void aSessionOnADeadGatewayResumesOnAnotherWithExactlyTheMissedPushes() throws Exception {
        GatewayDeath.aSessionOnADeadGatewayResumesWithExactlyTheMissedPushes(cluster, 200);
    }

    @Test
    void twoResumesRacedAfterTheBinderDiedHaveExactlyOneWinner() throws Exception {
        GatewayDeath.twoResumesRacedAfterTheBinderDiedHaveExactlyOneWinner(cluster, 3);
    }
}
