package io.braid.gateway;

import io.braid.testkit.RedisExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Duplicate logins raced across two gateways with the links, session records and session events
 * on a 3-master Redis Cluster: the binding link and the session record of a token live in
 * different slots (often on different masters), and still exactly one login stays bound each
 * round, the loser kicked. {@code -Dgateway.races=1000} for the long run. And pushes
 * asked again with their id, shown once ({@link PushRetry}).
 */
class RedisClusterGatewayTest {
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
    void twoLoginsOfOneTokenRacedOnTwoGatewaysLeaveExactlyOneBound() throws Exception {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2");
        int firstWon = DuplicateLoginRace.run(cluster, one, two, "cluster-race", RedisGatewayTest.RACES);
        System.out.printf("duplicate-login race (redis cluster): %d rounds, gateway-1 won %d, gateway-2 won %d%n",
                RedisGatewayTest.RACES, firstWon, RedisGatewayTest.RACES - firstWon);
    }

    @Test
    void aPushAskedAgainWithItsIdIsShownOnceAndAnswersOneSeqAlsoAcrossAResume() {
        PushRetry.run(cluster, cluster.gateway("gateway-1", b -> b.resumeGrace(PushRetry.GRACE)),
                cluster.gateway("gateway-2", b -> b.resumeGrace(PushRetry.GRACE)), "player:dee");
    }
}
