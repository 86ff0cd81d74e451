package io.braid.elector.internal;

import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Data loss under a running election on one redis-server: FLUSHALL, and a restart that comes back empty. */
class RedisElectorDataLossTest extends ElectorDataLossContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Override
    protected RedisConnector connect() {
        return RedisConnector.connect(redis.server().uri());
    }

    @Override
    protected RedisProbe probe(String key) {
        return redis.server().probe();
    }

    @Override
    protected void flushAll() {
        redis.server().flushAll();
    }

    @Override
    protected void restartWithoutData(String key) {
        redis.server().restartEmpty();
    }
}
