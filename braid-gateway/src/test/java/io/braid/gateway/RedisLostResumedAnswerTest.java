package io.braid.gateway;

import io.braid.testkit.RedisExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link LostResumedAnswerTest} on one real redis-server: the store's rule for the previous secret on Redis. */
class RedisLostResumedAnswerTest extends LostResumedAnswerTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Override
    GatewayFixture fixture() {
        redis.server().flushAll();
        return GatewayFixture.onRedis(redis.server().uri());
    }
}
