package io.braid.runtime;

import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Token-sticky routing on a 3-master Redis Cluster, emptied before each test: links spread over every master. */
class RedisClusterStickyRoutingTest extends RedisStickyRoutingContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @BeforeEach
    void emptyRedis() {
        redis.cluster().flushAll();
    }

    @Override
    protected Braid.Builder onPlane(Braid.Builder node) {
        return node.redisCluster(redis.cluster().uris());
    }

    @Override
    protected Braid.Builder onPlaneForBursts(Braid.Builder node) {
        return node.redis(closeAfterNodes(RedisConnector.connectCluster(redis.cluster().uris(), BURST_COMMAND_TIMEOUT)));
    }

    @Override
    protected String planeName() {
        return "redis-cluster";
    }

    @Override
    protected Map<String, Long> commandCalls() {
        Map<String, Long> sum = new HashMap<>();
        for (RedisServer node : redis.cluster().nodes()) {
            try (RedisProbe probe = node.probe()) {
                probe.commandCalls().forEach((command, calls) -> sum.merge(command, calls, Long::sum));
            }
        }
        return sum;
    }
}
