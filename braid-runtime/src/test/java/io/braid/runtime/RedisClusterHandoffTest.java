package io.braid.runtime;

import io.braid.testkit.RedisExtension;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link HandoffTest} on a 3-master Redis Cluster, emptied before each test: players' links (and
 * the compare-and-sets that move them) spread over every master, and the drain still moves each
 * player once, with its state, with no call failing.
 */
class RedisClusterHandoffTest extends HandoffTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @BeforeEach
    void emptyRedis() {
        redis.cluster().flushAll();
    }

    @Override
    protected Braid.Builder onPlane(Braid.Builder builder) {
        return builder.redisCluster(redis.cluster().uris()).heartbeat(Duration.ofMillis(500), Duration.ofSeconds(6));
    }
}
