package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The runtime's own timing policies, checked by moving the node's ticker instead of waiting. */
class TimingPoliciesTest {
    private static final Duration NANO = Duration.ofNanos(1);

    @Test
    void anOwnerRefusesAPlayerItGaveAwayForKeepThenAdmitsItAgain() {
        MovedTicker ticker = new MovedTicker();
        Ownership ownership = new Ownership(SelfFence.unconditional(ticker), "logic-1", "logic", ticker);
        assertThat(ownership.admits("player-1")).isTrue();

        ownership.changed("player-1", "logic", "logic-2", 1);
        assertThat(ownership.admits("player-1")).isFalse();
        assertThat(ownership.admits("player-2")).as("other players").isTrue();
        ticker.advance(Ownership.KEEP.minus(NANO)); // across Long.MAX_VALUE: the reading wraps
        assertThat(ownership.admits("player-1")).isFalse();
        ticker.advance(NANO);
        assertThat(ownership.admits("player-1")).isTrue();

        ownership.changed("player-1", "logic", "logic-2", 2);
        ownership.changed("player-1", "logic", "logic-1", 3);
        assertThat(ownership.admits("player-1")).as("linked here again").isTrue();
        assertThat(ownership.revocations()).isEqualTo(2);
    }

    @Test
    void aNodeWhoseLinksWereClearedRefusesTokenWorkForTheQuarantine() {
        MovedTicker ticker = new MovedTicker();
        SelfFence fence = SelfFence.unconditional(ticker);
        Ownership ownership = new Ownership(fence, "logic-1", "logic", ticker);
        ownership.nodeCleared("logic-2");
        assertThat(fence.getAsBoolean()).as("another node's links").isTrue();

        ownership.nodeCleared("logic-1");
        assertThat(ownership.isOpen()).isFalse();
        ticker.advance(SelfFence.quarantine(Duration.ofSeconds(1)).minus(NANO));
        assertThat(ownership.isOpen()).isFalse();
        ticker.advance(NANO);
        assertThat(ownership.isOpen()).isTrue();
        fence.close();
        assertThat(ownership.isOpen()).as("closed for good").isFalse();
    }

    @Test
    void aRegistrationNotConfirmedForTheWindowClosesTheFenceAndALapseQuarantinesIt() {
        MovedTicker ticker = new MovedTicker();
        Duration[] sinceConfirmed = {Duration.ZERO};
        Duration[] sinceLapse = {null};
        SelfFence fence = SelfFence.of(new SelfFence.Registration() {
            @Override
            public Duration sinceConfirmed() {
                return sinceConfirmed[0];
            }

            @Override
            public Duration sinceLapse() {
                return sinceLapse[0];
            }
        }, Duration.ofMillis(200), Duration.ofMillis(900), ticker);
        assertThat(fence.getAsBoolean()).isTrue();
        sinceConfirmed[0] = Duration.ofMillis(599);
        assertThat(fence.getAsBoolean()).isTrue();
        sinceConfirmed[0] = Duration.ofMillis(600); // ttl - ttl/3
        assertThat(fence.getAsBoolean()).isFalse();
        sinceConfirmed[0] = Duration.ZERO;
        sinceLapse[0] = Duration.ofMillis(999);
        assertThat(fence.getAsBoolean()).as("within the quarantine of max(1 s, heartbeat)").isFalse();
        sinceLapse[0] = Duration.ofSeconds(1);
        assertThat(fence.getAsBoolean()).isTrue();
    }

    /**
     * A player that never leaves: the drain counts links on the node's scheduler (borrowed here, so
     * the test sees its checks run) and ends at its timeout on the node's ticker; the node closes.
     */
    @Test
    void aDrainEndsWhenItsTimeoutHasPassedOnTheNodesTicker() throws Exception {
        MovedTicker ticker = new MovedTicker();
        AtomicInteger ran = new AtomicInteger();
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1) {
            @Override
            protected void afterExecute(Runnable task, Throwable failure) {
                ran.incrementAndGet();
            }
        };
        InMemoryControlPlane plane = new InMemoryControlPlane("drain-" + UUID.randomUUID());
        try (Braid logic = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1).inMemory(plane)
                .ticker(ticker).scheduler(scheduler).drainTimeout(Duration.ofMinutes(5)).start();
             Braid observer = Braid.builder().service("observer").ioThreads(1).inMemory(plane).start()) {
            logic.linkCache().relink("player-1", logic.node());
            CompletableFuture<Void> drained = logic.drain();
            awaitChecks(ran, 3);
            assertThat(drained).as("a linked player keeps the node").isNotDone();
            ticker.advance(Duration.ofMinutes(5).minus(NANO));
            awaitChecks(ran, 3);
            assertThat(drained).as("before the timeout").isNotDone();

            ticker.advance(NANO);
            drained.get(5, TimeUnit.SECONDS);
            Await.until(Duration.ofSeconds(5), "logic deregistered", () -> observer.discover().nodes("logic").isEmpty());
            assertThat(scheduler.isShutdown()).as("a borrowed scheduler stays up").isFalse();
        } finally {
            scheduler.shutdownNow();
        }
    }

    private static void awaitChecks(AtomicInteger ran, int more) {
        int target = ran.get() + more;
        Await.until(Duration.ofSeconds(5), more + " more drain checks", () -> ran.get() >= target);
    }
}
