package io.braid.gateway;

import io.braid.testkit.RedisExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway's death with the session records on a Redis Cluster (every key of a session in the
 * slot of {@code {gw:<token>}}, each gateway's index in the slot of {@code {gwidx:<node>}}): every
 * scenario of {@link GatewayDeath}. The sweep reads the dead gateway's index in one slot and ends
 * sessions whose records are in other slots, one single-slot command or script at a time.
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

    @Test
    void aReconnectStormAfterAGatewayDeathResumesEverySession() throws Exception {
        GatewayDeath.aReconnectStormAfterAGatewayDeathResumesEverySession(cluster,
                Math.min(GatewayDeathTest.STORM, Integer.getInteger("gateway.redisStorm", 300)));
    }

    @Test
    void aDeadGatewaysSessionNobodyResumesClosesOnceWhenTheGraceEnds() {
        GatewayDeath.aDeadGatewaysSessionNobodyResumesClosesOnceWhenTheGraceEnds(cluster);
    }
}
