package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Braid#run()} always returns once the node is closed, whatever a drain did before: a drain
 * that cannot announce DRAINING because Redis is down fails UNAVAILABLE within a bound instead of
 * throwing or hanging, and a {@code close()} afterwards releases {@code run()} at once. Its own
 * redis-server, which the tests kill.
 */
class DrainWithRedisDownTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(1);
    /** How long close() may take once Redis is gone: discovery's deregister waits up to one TTL (3 s). */
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(10);

    @BeforeEach
    void redisUp() {
        if (!redis.server().isRunning()) {
            redis.server().restart();
        }
        redis.server().flushAll();
    }

    @Test
    void closeReleasesRunAfterADrainFailedBecauseRedisIsDown() throws Exception {
        Braid node = logic("logic-1");
        Running running = Running.start(node);
        try {
            redis.server().kill();

            long drainStarted = System.nanoTime();
            CompletableFuture<Void> drained = node.drain();
            Throwable failure = failureWithin(drained, Duration.ofSeconds(10));
            System.out.printf("drain with Redis down failed after %d ms: %s%n",
                    Duration.ofNanos(System.nanoTime() - drainStarted).toMillis(), failure);
            assertThat(failure).isInstanceOfSatisfying(BraidException.class,
                    e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE));
            assertThat(running.thread.isAlive()).as("run() still runs: a failed drain leaves the node up").isTrue();

            long closeStarted = System.nanoTime();
            node.close();
            running.thread.join(CLOSE_BOUND.toMillis());
            System.out.printf("run() returned %d ms after close() began%n",
                    Duration.ofNanos(System.nanoTime() - closeStarted).toMillis());
            assertThat(running.thread.isAlive()).as("run() returned after close()").isFalse();
            assertThat(running.failure.get()).as("run() ended normally").isNull();
        } finally {
            node.close();
            running.thread.join(CLOSE_BOUND.toMillis());
        }
    }

    @Test
    void closeReleasesRunWhileADrainWaitsForPlayersAndRedisIsDown() throws Exception {
        Braid node = logic("logic-1");
        Running running = Running.start(node);
        try {
            // One player linked to the node, so the drain has someone to wait for.
            assertThat(node.invoke(StickyRoutingContract.LOGIC, StickyRoutingContract.WHERE, "player-1",
                    StringValue.of(""), StringValue.parser()).get(5, TimeUnit.SECONDS).getValue()).isEqualTo("logic-1");
            CompletableFuture<Void> drained = node.drain();
            assertThat(Await.poll(Duration.ofMillis(500), drained::isDone)).as("the drain waits for its player").isFalse();
            redis.server().kill();

            long closeStarted = System.nanoTime();
            node.close();
            running.thread.join(CLOSE_BOUND.toMillis());
            assertThat(running.thread.isAlive()).as("run() returned after close()").isFalse();
            assertThat(drained).as("the drain ends with the node").isDone();
            System.out.printf("run() returned %d ms after close() began%n",
                    Duration.ofNanos(System.nanoTime() - closeStarted).toMillis());
        } finally {
            node.close();
            running.thread.join(CLOSE_BOUND.toMillis());
        }
    }

    @Test
    void aDrainThatFailedCanBeAskedAgainOnceRedisIsBack() throws Exception {
        try (Braid node = logic("logic-1")) {
            redis.server().kill();
            assertThat(failureWithin(node.drain(), Duration.ofSeconds(10))).isInstanceOf(BraidException.class);
            assertThat(node.node().state()).as("not announced, so not draining").isEqualTo(io.braid.api.NodeState.ACTIVE);

            redis.server().restart();
            long restarted = System.nanoTime();
            Await.until(Duration.ofSeconds(15), "a heartbeat sent after the restart is confirmed", () ->
                    ((io.braid.discover.internal.RedisDiscover) node.discover()).sinceLastHeartbeat()
                            .compareTo(Duration.ofNanos(System.nanoTime() - restarted)) < 0);
            CompletableFuture<Void> again = node.drain();
            Await.until(Duration.ofSeconds(15), "the second drain, with Redis back and no players, closes the node",
                    again::isDone);
            assertThat(again).isCompleted();
        }
    }

    private static Throwable failureWithin(CompletableFuture<?> future, Duration bound) throws Exception {
        try {
            future.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure, the future completed normally");
    }

    private static Braid logic(String id) {
        return Braid.builder().service(StickyRoutingContract.LOGIC).nodeId(id).ioThreads(1)
                .redis(redis.server().uri()).redisCommandTimeout(COMMAND_TIMEOUT).drainTimeout(Duration.ofSeconds(60))
                .shutdownGrace(Duration.ofSeconds(1))
                .handle(StickyRoutingContract.WHERE, StringValue.parser(), (ctx, request) -> StringValue.of(id))
                .start();
    }

    /** {@code node.run()} on a thread of its own, as a game server's main thread would call it. */
    private record Running(Thread thread, AtomicReference<Throwable> failure) {
        static Running start(Braid node) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread thread = Thread.ofPlatform().name("braid-run-" + node.node().id()).start(() -> {
                try {
                    node.run();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            return new Running(thread, failure);
        }
    }
}
