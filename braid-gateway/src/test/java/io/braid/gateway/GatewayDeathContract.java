package io.braid.gateway;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scenarios of {@link GatewayDeath} as tests, each on a fresh {@link GatewayFixture} from
 * {@link #start()}: extended by {@code GatewayDeathTest} (in memory), {@code RedisGatewayDeathTest}
 * (one redis-server) and {@code RedisClusterGatewayDeathTest} (a Redis Cluster), which add the
 * faults of their own control plane and say how large each scenario runs there.
 */
abstract class GatewayDeathContract {
    /** Sessions in the reconnect storm in memory; {@code -Dgateway.storm=2000} for the number. */
    static final int STORM = Integer.getInteger("gateway.storm", 500);
    /** Sessions in the reconnect storm on Redis: as many, at most {@code -Dgateway.redisStorm} (300). */
    static final int REDIS_STORM = Math.min(STORM, Integer.getInteger("gateway.redisStorm", 300));

    private final int pushes;
    private final int raceRounds;
    private final int stormSessions;
    GatewayFixture cluster;

    /**
     * {@code pushes} streamed across the death, {@code raceRounds} rounds of raced resumes, {@code
     * stormSessions} sessions in the reconnect storm.
     */
    GatewayDeathContract(int pushes, int raceRounds, int stormSessions) {
        this.pushes = pushes;
        this.raceRounds = raceRounds;
        this.stormSessions = stormSessions;
    }

    /** The fixture for one test, on a control plane with no data left by an earlier test. */
    abstract GatewayFixture start();

    @BeforeEach
    void startCluster() {
        cluster = start();
    }

    @AfterEach
    void closeCluster() throws Exception {
        cluster.close();
    }

    @Test
    void aSessionOnADeadGatewayResumesOnAnotherWithExactlyTheMissedPushes() throws Exception {
        GatewayDeath.aSessionOnADeadGatewayResumesWithExactlyTheMissedPushes(cluster, pushes);
    }

    @Test
    void twoResumesRacedAfterTheBinderDiedHaveExactlyOneWinner() throws Exception {
        GatewayDeath.twoResumesRacedAfterTheBinderDiedHaveExactlyOneWinner(cluster, raceRounds);
    }

    @Test
    void aReconnectStormAfterAGatewayDeathResumesEverySession() throws Exception {
        GatewayDeath.aReconnectStormAfterAGatewayDeathResumesEverySession(cluster, stormSessions);
    }

    @Test
    void aDeadGatewaysSessionNobodyResumesClosesOnceWhenTheGraceEnds() {
        GatewayDeath.aDeadGatewaysSessionNobodyResumesClosesOnceWhenTheGraceEnds(cluster);
    }
}
