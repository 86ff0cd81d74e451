package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node that cannot confirm its registration stops serving its players before the cluster could
 * give them to another node, and serves them again once it is registered again.
 */
class SelfFencingTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration TTL = Duration.ofMillis(900);

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    private static Code codeOf(Runnable call) {
        try {
            call.run();
            return Code.OK;
        } catch (CompletionException | BraidException e) {
            return BraidException.from(e).code();
        }
    }

    @Test
    void aNodeCutOffFromRedisRefusesTokenCallsUntilItIsRegisteredAgain() throws Exception {
        try (Braid logic = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1)
                     .redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL)
                     .handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("logic-1")).start();
             Braid gateway = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)
                     .redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL).start()) {
            Await.until(Duration.ofSeconds(5), "gateway sees logic", () -> !gateway.discover().nodes("logic").isEmpty());
            // Warm: the owner of player-1 is in the gateway's near cache, so calls need no Redis.
            assertThat(gateway.invoke("logic", "who", "player-1", StringValue.of(""), StringValue.parser())
                    .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("logic-1");

            redis.server().pause();
            try {
                long pausedAt = System.nanoTime();
                Await.until(Duration.ofSeconds(5), "logic fences itself", () -> codeOf(() ->
                        gateway.invoke("logic", "who", "player-1", StringValue.of(""), StringValue.parser()).join())
                        == Code.UNAVAILABLE);
                Duration fencedAfter = Duration.ofNanos(System.nanoTime() - pausedAt);
                System.out.printf("fenced %d ms after Redis stopped answering (TTL %d ms)%n", fencedAfter.toMillis(),
                        TTL.toMillis());
                assertThat(fencedAfter).isLessThan(TTL);
                // Stateless calls do not touch a player's state: they are still served.
                assertThat(gateway.invoke("logic", "who", "", StringValue.of(""), StringValue.parser())
                        .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("logic-1");
            } finally {
                redis.server().resume();
            }

            Await.until(Duration.ofSeconds(10), "logic serves its player again", () -> codeOf(() ->
                    gateway.invoke("logic", "who", "player-1", StringValue.of(""), StringValue.parser()).join())
                    == Code.OK);
        }
    }
}
