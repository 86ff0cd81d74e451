package io.braid.discover.internal;

import io.braid.api.Discover;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The same contract on a 3-master Redis Cluster. */
class RedisClusterDiscoverTest extends DiscoverContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @org.junit.jupiter.api.BeforeEach
    void emptyRedis() {
        redis.cluster().flushAll();
    }

    @Override
    protected Discover newMember() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connectCluster(redis.cluster().uris()));
        return RedisDiscover.builder(connector).build();
    }

    @Override
    protected void crash(Discover member) {
        ((RedisDiscover) member).haltAsIfCrashed();
    }

    @org.junit.jupiter.api.Test
    void aHeartbeatNeverBringsBackActiveAfterDraining() throws Exception {
        RedisConnector connector = closeAfterMembers(RedisConnector.connectCluster(redis.cluster().uris()));
        RecordRaces.activeNeverComesBackAfterDraining(this::closeAfterMembers, connector,
                key -> redis.cluster().masterOf(key).probe());
    }

    @org.junit.jupiter.api.Test
    void aHeartbeatNeverBringsBackADeregisteredNode() throws Exception {
        RedisConnector connector = closeAfterMembers(RedisConnector.connectCluster(redis.cluster().uris()));
        RecordRaces.aLeftNodeNeverComesBack(this::closeAfterMembers, connector,
                key -> redis.cluster().masterOf(key).probe());
    }

    @Override
    protected Duration crashDetectionBound() {
        return Duration.ofSeconds(3 + 1);
    }
}
