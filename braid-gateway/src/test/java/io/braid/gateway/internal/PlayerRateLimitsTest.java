package io.braid.gateway.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * One rate limit per player token: shared by its connections, kept while one holds it and for its
 * linger after the last release (ticker time), then dropped; safe for connections on two threads.
 * Time is a ticker moved by hand (starting just below {@code Long.MAX_VALUE}, so the linger is
 * measured across the wrap) and the drops are tasks the test runs, except in the one test that
 * schedules them on a real event loop.
 */
class PlayerRateLimitsTest {
    private static final long MILLI = 1_000_000L;
    /** 10 calls/s, burst 5 (refills in 0.5 s); 1 MB/s, burst 1000 bytes (1 ms); 3 refusals: the linger is the quiet second. */
    private static final RateLimits LIMITS = new RateLimits(10, 5, 1_000_000, 1_000, 3);

    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - 300 * MILLI);
    private final List<Runnable> scheduled = new ArrayList<>();
    private final List<Long> delays = new ArrayList<>();
    private final PlayerRateLimits players = new PlayerRateLimits(LIMITS, now::get, (task, delayNanos) -> {
        scheduled.add(task);
        delays.add(delayNanos);
    });

    /** Runs the drop tasks scheduled so far (as their delays had passed), and answers how many ran. */
    private int runScheduled() {
        List<Runnable> due = new ArrayList<>(scheduled);
        scheduled.clear();
        delays.clear();
        due.forEach(Runnable::run);
        return due.size();
    }

    private static int passes(CallRateLimit limit, int calls) {
        int passed = 0;
        for (int i = 0; i < calls; i++) {
            if (limit.admit(10).verdict() == CallRateLimit.Verdict.PASS) {
                passed++;
            }
        }
        return passed;
    }

    @Test
    void theLingerIsTheLongerRefillOfAnEmptyBucketAndAtLeastTheQuietSecond() {
        assertThat(players.lingerNanos()).as("refills of 0.5 s and 1 ms: the quiet second").isEqualTo(1_000 * MILLI);
        assertThat(CallRateLimit.freshAfterNanos(new RateLimits(2, 5, 1_024, 8_192, 3)))
                .as("5 calls at 2/s: 2.5 s; 8 KiB at 1 KiB/s: 8 s").isEqualTo(8_000 * MILLI);
        assertThat(CallRateLimit.freshAfterNanos(new RateLimits(3, 10, 1_000_000, 1_000, 3)))
                .as("10 calls at 3/s, rounded up to the nanosecond").isEqualTo(3_333_333_334L);
    }

    @Test
    void aTokensConnectionsShareOneLimitAndOtherTokensHaveTheirOwn() {
        CallRateLimit first = players.acquire("player:ann");
        CallRateLimit second = players.acquire("player:ann");
        CallRateLimit other = players.acquire("player:bob");
        assertThat(second).isSameAs(first);
        assertThat(other).isNotSameAs(first);

        assertThat(passes(first, 3) + passes(second, 3)).as("one burst of 5 for both connections").isEqualTo(5);
        CallRateLimit.Admission refused = second.admit(10);
        assertThat(refused.verdict()).isEqualTo(CallRateLimit.Verdict.REFUSE);
        assertThat(refused.limit()).isEqualTo("rate limit: 10 calls/s (burst 5)");
        assertThat(passes(other, 5)).as("bob's burst is his own").isEqualTo(5);
        assertThat(players.size()).isEqualTo(2);
    }

    @Test
    void aHeldLimitIsNeverDroppedAndAReleasedOneIsKeptForItsLingerThenDropped() {
        CallRateLimit held = players.acquire("player:ann");
        assertThat(passes(held, 6)).isEqualTo(5);
        CallRateLimit other = players.acquire("player:ann");
        players.release("player:ann");
        assertThat(scheduled).as("one connection still holds it: nothing to drop").isEmpty();

        players.release("player:ann");
        assertThat(delays).as("the drop looks after the linger").containsExactly(1_000 * MILLI);
        now.addAndGet(400 * MILLI); // the ticker wraps here
        assertThat(runScheduled()).isEqualTo(1);
        assertThat(players.size()).as("kept: 0.4 s of a 1 s linger").isEqualTo(1);
        assertThat(delays).as("looks again when the linger will have passed").containsExactly(600 * MILLI);

        // Back within the linger: the same limit, as empty as it was left (0.4 s refilled 4 calls).
        CallRateLimit back = players.acquire("player:ann");
        assertThat(back).isSameAs(held).isSameAs(other);
        assertThat(passes(back, 5)).isEqualTo(4);
        now.addAndGet(60_000 * MILLI);
        assertThat(runScheduled()).isEqualTo(1);
        assertThat(players.size()).as("held again: kept however long").isEqualTo(1);
        assertThat(scheduled).as("the next release schedules the drop").isEmpty();

        players.release("player:ann");
        now.addAndGet(999 * MILLI);
        assertThat(runScheduled()).isEqualTo(1);
        assertThat(players.size()).isEqualTo(1);
        now.addAndGet(MILLI);
        assertThat(runScheduled()).isEqualTo(1);
        assertThat(players.size()).as("dropped once its linger passed").isZero();
        assertThat(scheduled).isEmpty();

        CallRateLimit fresh = players.acquire("player:ann");
        assertThat(fresh).isNotSameAs(held);
        assertThat(passes(fresh, 6)).as("a fresh limit: a full burst, as the old one would have had").isEqualTo(5);
    }

    @Test
    void aReleaseDuringALingerPushesTheDropBackWithoutASecondTask() {
        players.acquire("player:ann");
        players.release("player:ann");
        now.addAndGet(700 * MILLI);
        players.acquire("player:ann");
        players.release("player:ann");
        assertThat(scheduled).as("the first release's drop is still pending").hasSize(1);
        now.addAndGet(500 * MILLI);
        runScheduled();
        assertThat(players.size()).as("0.5 s since the last release").isEqualTo(1);
        assertThat(delays).containsExactly(500 * MILLI);
        now.addAndGet(500 * MILLI);
        runScheduled();
        assertThat(players.size()).isZero();
    }

    @Test
    void afterCloseNothingIsKeptOrScheduled() {
        players.acquire("player:ann");
        players.acquire("player:bob");
        players.release("player:bob");
        players.close();
        players.close();
        assertThat(players.size()).isZero();
        players.release("player:ann"); // a connection closing after the gateway
        runScheduled();
        assertThat(players.size()).isZero();
        assertThat(scheduled).isEmpty();
    }

    @Test
    void aReleasedLimitIsDroppedOnARealEventLoopOnceTheTickerPassedItsLinger() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try (PlayerRateLimits onLoop = new PlayerRateLimits(LIMITS, now::get,
                (task, delayNanos) -> loop.schedule(task, delayNanos, TimeUnit.NANOSECONDS))) {
            onLoop.acquire("player:ann");
            onLoop.release("player:ann");
            now.addAndGet(onLoop.lingerNanos());
            Await.until(Duration.ofSeconds(10), () -> "the limit to be dropped; kept " + onLoop.size(),
                    () -> onLoop.size() == 0);
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void connectionsOnTwoThreadsTakeFromOneBucketExactlyItsBurst() throws Exception {
        int burst = 20_000;
        // 1 call a second, the ticker standing still: exactly the burst passes, whichever thread takes it.
        PlayerRateLimits shared = new PlayerRateLimits(new RateLimits(1, burst, 1_000_000_000, 1_000_000_000, 1_000),
                now::get, (task, delayNanos) -> { });
        CyclicBarrier start = new CyclicBarrier(2);
        List<CompletableFuture<Integer>> connections = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            CallRateLimit limit = shared.acquire("player:twice");
            CompletableFuture<Integer> passed = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);
                    passed.complete(passes(limit, burst));
                } catch (Exception | Error e) {
                    passed.completeExceptionally(e);
                }
            }, "connection-" + i);
            thread.start();
            connections.add(passed);
        }
        int total = 0;
        for (CompletableFuture<Integer> passed : connections) {
            total += passed.get(30, TimeUnit.SECONDS);
        }
        assertThat(total).as("calls passed on both threads").isEqualTo(burst);
    }
}
