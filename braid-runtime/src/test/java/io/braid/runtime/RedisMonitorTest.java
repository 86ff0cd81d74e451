package io.braid.runtime;

import io.braid.testkit.RedisExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The monitor on one real redis-server, emptied before each test: topic figures from XINFO. */
class RedisMonitorTest extends MonitorContract {
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
}
