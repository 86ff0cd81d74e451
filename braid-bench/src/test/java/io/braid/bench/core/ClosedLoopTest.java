package io.braid.bench.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The closed loop both hand-off runs measure with: keys round robin, failures charged by when they ended, a flat stack. */
class ClosedLoopTest {
    private static final ClosedLoop.Kind TIMEOUT = new ClosedLoop.Kind("TimeoutException", "too slow");

    @Test
    void callsThatEndInsideTheirStartLoopWithoutGrowingTheStack() throws Exception {
        AtomicLongArray perKey = new AtomicLongArray(3);
        AtomicInteger calls = new AtomicInteger();
        ClosedLoop<Integer> loop = new ClosedLoop<>("calls", 3, key -> {
            calls.incrementAndGet();
            return CompletableFuture.completedFuture(key); // answered at once, on the caller's stack
        }, (key, value, ended) -> perKey.incrementAndGet(value), cause -> TIMEOUT);
        AtomicReference<Throwable> stopFailed = new AtomicReference<>();
        Thread stopper = Thread.ofPlatform().start(() -> {
            while (calls.get() < 300_000) {
                Thread.onSpinWait();
            }
            try {
                loop.stop(Duration.ofSeconds(10));
            } catch (Throwable e) {
                stopFailed.set(e);
            }
        });
        loop.start(1); // every call ends inside its start: this thread runs the loop until stopped
        stopper.join(30_000);
        assertThat(stopFailed.get()).isNull();
        assertThat(loop.completed()).isGreaterThanOrEqualTo(300_000);
        assertThat(perKey.get(0) - perKey.get(2)).as("round robin over the keys").isBetween(0L, 1L);
        assertThat(loop.interval().getTotalCount()).isEqualTo(loop.completed());
        assertThat(loop.failures()).isEmpty();
    }

    @Test
    void aFailureIsChargedToTheWindowInWhichItEndedWithItsKindAndFirstMessage() throws Exception {
        CompletableFuture<Integer> first = new CompletableFuture<>();
        CompletableFuture<Integer> second = new CompletableFuture<>();
        CompletableFuture<?>[] next = {first, second};
        int[] started = new int[1];
        ClosedLoop<Integer> loop = new ClosedLoop<>("calls", 1, key -> {
            int n = started[0]++;
            @SuppressWarnings("unchecked")
            CompletableFuture<Integer> call = n < next.length ? (CompletableFuture<Integer>) next[n] : new CompletableFuture<>();
            return call;
        }, (key, value, ended) -> { }, cause -> new ClosedLoop.Kind(cause.getClass().getSimpleName(), cause.getMessage()));
        loop.start(1);
        long beforeFirst = System.nanoTime();
        first.completeExceptionally(new TimeoutException("the first"));
        long between = System.nanoTime();
        second.completeExceptionally(new TimeoutException("the second"));
        long afterSecond = System.nanoTime();

        assertThat(loop.failuresBetween(beforeFirst, between)).containsExactly(java.util.Map.entry("TimeoutException", 1L));
        assertThat(loop.failuresBetween(between, afterSecond)).containsExactly(java.util.Map.entry("TimeoutException", 1L));
        assertThat(loop.failuresBetween(afterSecond, System.nanoTime())).isEmpty();
        assertThat(loop.firstMessages()).containsExactly(java.util.Map.entry("TimeoutException", "the first"));
        assertThatThrownBy(() -> loop.stop(Duration.ofMillis(50))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("1 calls did not end");
    }
}
