package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A token call's deadline holds while its route is being found: with Redis frozen, a player whose
 * link is not cached gets DEADLINE_EXCEEDED at the caller's deadline, not after Redis' command
 * timeout (set long here so the two cannot be confused), and a player whose link is cached is
 * still served.
 */
class DeadlineThroughRedisOutageTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration CALL_DEADLINE = Duration.ofMillis(300);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single(RedisServer.builder());

    private final Deque<Braid> nodes = new ArrayDeque<>();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @AfterEach
    void closeNodes() {
        if (!redis.server().isRunning()) {
            redis.server().restart();
        }
        while (!nodes.isEmpty()) {
            nodes.pop().close();
        }
    }

    @Test
    void aColdTokenCallEndsAtItsDeadlineWhileRedisIsFrozenAndAWarmOneIsServed() throws Exception {
        node(Braid.builder().service(StickyRoutingContract.LOGIC).nodeId("logic-1")
                .handle(StickyRoutingContract.WHERE, StringValue.parser(), (ctx, request) -> StringValue.of("logic-1")));
        Braid gateway = node(Braid.builder().service("gateway").nodeId("gateway-1"));
        Await.until(StickyRoutingContract.VIEW_CHANGE, "the gateway sees logic-1",
                () -> gateway.discover().nodes(StickyRoutingContract.LOGIC).size() == 1);
        assertThat(StickyRoutingContract.call(gateway, "warm-player")).isEqualTo("logic-1");

        redis.server().pause();
        try {
            long start = System.nanoTime();
            CompletableFuture<StringValue> cold = gateway.invoke(StickyRoutingContract.LOGIC,
                    StickyRoutingContract.WHERE, "cold-player",
                    StringValue.of("x"), StringValue.parser(), CallOptions.DEFAULT.withTimeout(CALL_DEADLINE));
            Throwable failure = null;
            try {
                cold.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                failure = e.getCause();
            }
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(failure).as("a cold token call while Redis is frozen").isInstanceOf(BraidException.class);
            assertThat(((BraidException) failure).code()).isEqualTo(Code.DEADLINE_EXCEEDED);
            assertThat(failure).hasMessageContaining("cold-player");
            // The deadline is 300 ms; the slack is for a loaded machine, far below the 20 s command timeout.
            assertThat(tookMillis).as("ms until the cold call ended").isBetween(CALL_DEADLINE.toMillis() - 5, 3_000L);

            StringValue warm = gateway.invoke(StickyRoutingContract.LOGIC, StickyRoutingContract.WHERE, "warm-player",
                    StringValue.of("x"), StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5)))
                    .get(10, TimeUnit.SECONDS);
            assertThat(warm.getValue()).as("a player whose link is cached, while Redis is frozen").isEqualTo("logic-1");
        } finally {
            redis.server().resume();
        }
    }

    private Braid node(Braid.Builder settings) {
        Braid node = settings.ioThreads(1).redis(redis.server().uri()).redisCommandTimeout(COMMAND_TIMEOUT).start();
        nodes.push(node);
        return node;
    }
}
