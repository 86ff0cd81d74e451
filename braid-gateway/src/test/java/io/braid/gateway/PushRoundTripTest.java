package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.gateway.proto.Push;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Pushes to one player, measured: one at a time (the pusher's round trip: logic node → gateway →
 * the durable log → answer) and pipelined (64 in flight), in memory and on one redis-server. Every
 * push arrives, in order, numbered 1..N. {@code -Dgateway.pushes=10000} for the README's numbers.
 */
class PushRoundTripTest {
    static final int PUSHES = Integer.getInteger("gateway.pushes", 1000);
    /** Pushes in flight at once in the pipelined run. */
    static final int WINDOW = 64;

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Test
    void pushesToOnePlayerInMemory() throws Exception {
        try (GatewayFixture cluster = GatewayFixture.inMemory()) {
            measure(cluster, "in memory");
        }
    }

    @Test
    void pushesToOnePlayerOnRedis() throws Exception {
        redis.server().flushAll();
        try (GatewayFixture cluster = GatewayFixture.onRedis(redis.server().uri())) {
            measure(cluster, "one redis-server");
        }
    }

    private static void measure(GatewayFixture cluster, String plane) {
        GatewayFixture.GatewayNode gateway = cluster.gateway("gateway-1", builder -> builder
                .resumeGrace(Duration.ofSeconds(20)).replayMaxPushes(100_000));
        try (TestClient client = TestClient.tcp(gateway.tcp())) {
            assertThat(client.login("player:bench").hasLoginOk()).isTrue();
            byte[] payload = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
            long[] nanos = new long[PUSHES];
            long started = System.nanoTime();
            for (int i = 0; i < PUSHES; i++) {
                long t0 = System.nanoTime();
                assertThat(cluster.pusher().push("player:bench", payload).join()).isEqualTo(i + 1L);
                nanos[i] = System.nanoTime() - t0;
            }
            long oneByOne = System.nanoTime() - started;
            started = System.nanoTime();
            List<CompletableFuture<Long>> all = new ArrayList<>(PUSHES);
            Semaphore window = new Semaphore(WINDOW);
            for (int i = 0; i < PUSHES; i++) {
                window.acquireUninterruptibly();
                CompletableFuture<Long> push = cluster.pusher().push("player:bench", payload);
                push.whenComplete((seq, failure) -> window.release());
                all.add(push);
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
            long pipelined = System.nanoTime() - started;
            Await.until(Duration.ofSeconds(60), () -> "all " + 2 * PUSHES + " pushes; got " + client.pushes().size(),
                    () -> client.pushes().size() == 2 * PUSHES);
            assertThat(client.pushes()).extracting(Push::getPushSeq)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, 2L * PUSHES).boxed().toList());
            java.util.Arrays.sort(nanos);
            System.out.printf("push round trip, %s, %d pushes one at a time: mean %.0f us, p50 %d us, p99 %d us;"
                    + " %d pipelined (64 in flight): %.0f pushes/s%n", plane, PUSHES, oneByOne / 1000.0 / PUSHES, nanos[PUSHES / 2] / 1000,
                    nanos[PUSHES * 99 / 100] / 1000, PUSHES, PUSHES / (pipelined / 1e9));
        }
    }
}
