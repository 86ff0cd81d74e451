package io.braid.runtime;

import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Token-sticky routing on one real redis-server, emptied before each test. */
class RedisStickyRoutingTest extends RedisStickyRoutingContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @Override
    protected Braid.Builder onPlane(Braid.Builder node) {
        return node.redis(redis.server().uri());
    }

    @Override
    protected Braid.Builder onPlaneForBursts(Braid.Builder node) {
        return node.redis(closeAfterNodes(RedisConnector.connect(redis.server().uri(), BURST_COMMAND_TIMEOUT)));
    }

    @Override
    protected String planeName() {
        return "redis";
    }

    @Override
    protected Map<String, Long> commandCalls() {
        try (RedisProbe probe = redis.server().probe()) {
            return probe.commandCalls();
        }
    }
}
