package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.monitor.internal.BraidMeters;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code braid.node.fenced} on the Redis control plane: a node cut off from Redis (the server
 * paused, as in {@link SelfFencingTest}) reports itself fenced within its fence window, with no
 * call coming, and open again once it is registered again; each closure counted once.
 */
class RedisFenceMeterTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration TTL = Duration.ofMillis(900);

    private static double fenced(Braid node) {
        return node.meterRegistry().get(BraidMeters.NODE_FENCED).tag(BraidMeters.TAG_SERVICE, "logic").gauge().value();
    }

    private static double closures(Braid node) {
        return node.meterRegistry().get(BraidMeters.NODE_FENCE_CLOSURES).counter().count();
    }

    @Test
    void aNodeCutOffFromRedisReportsItselfFencedUntilItIsRegisteredAgain() {
        redis.server().flushAll();
        try (Braid logic = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1)
                .redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL).start()) {
            Await.until(Duration.ofSeconds(5), "logic registered", () -> logic.discover().nodes("logic").size() == 1);
            assertThat(fenced(logic)).isZero();
            assertThat(closures(logic)).isZero();

            redis.server().pause();
            try {
                long pausedAt = System.nanoTime();
                Await.until(Duration.ofSeconds(5), "logic reports itself fenced", () -> fenced(logic) == 1);
                assertThat(Duration.ofNanos(System.nanoTime() - pausedAt)).as("within the TTL and a check")
                        .isLessThan(TTL.plus(SelfFence.CHECK_EVERY));
            } finally {
                redis.server().resume();
            }

            Await.until(Duration.ofSeconds(10), "logic reports itself open again", () -> fenced(logic) == 0);
            assertThat(closures(logic)).isEqualTo(1);
        }
    }
}
