package io.braid.bench.micro;

import io.braid.api.Node;
import io.braid.linkcache.internal.RedisLinkCache;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisServer;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The lookup a warm sticky call makes before it is sent: {@link RedisLinkCache#targetAsync} for a
 * token whose owner is in the near cache (no Redis round trip). The cache is the real one, on a
 * redis-server of its own, warmed by one {@code link}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NearCacheBenchmark {
    private RedisServer redis;
    private RedisConnector connector;
    private RedisLinkCache links;
    private final String token = "player-4711";

    @Setup
    public void setUp() {
        redis = RedisServer.start();
        connector = RedisConnector.connect(redis.uri());
        links = RedisLinkCache.builder(connector).build();
        links.link(token, Node.of("logic-1", "logic", "127.0.0.1", 7001, 100));
        if (links.targetAsync(token, "logic").join().isEmpty()) {
            throw new IllegalStateException("the warmed token has no owner");
        }
    }

    @TearDown
    public void tearDown() {
        links.close();
        connector.close();
        redis.close();
    }

    @Benchmark
    public Optional<String> nearCacheHit() {
        return links.targetAsync(token, "logic").join();
    }
}
