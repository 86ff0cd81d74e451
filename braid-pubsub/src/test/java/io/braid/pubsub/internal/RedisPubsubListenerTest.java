package io.braid.pubsub.internal;

import io.braid.api.Pubsub;
import io.braid.api.internal.PubsubListener;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The listener and stats contract on one redis-server (stats from XLEN and XINFO GROUPS). */
class RedisPubsubListenerTest extends PubsubListenerContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();
    private final AtomicInteger members = new AtomicInteger();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @Override
    protected Pubsub member(PubsubListener listener) {
        RedisConnector connector = RedisConnector.connect(redis.server().uri());
        Pubsub member = RedisPubsub.builder(connector).consumerName("member-" + members.incrementAndGet())
                .block(java.time.Duration.ofMillis(50)).listener(listener).build();
        adopt(connector);
        return adopt(member);
    }
}
