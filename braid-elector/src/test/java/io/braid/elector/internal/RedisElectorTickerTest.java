package io.braid.elector.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Role;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lease's timing policies on a ticker the test moves: an hour-long lease is checked to the
 * nanosecond without waiting for it. Renewals still run every 100 ms of real time, on a scheduler
 * the test owns; the ticker starts near {@link Long#MAX_VALUE}, so every reading after the first
 * move has wrapped and only differences are meaningful.
 */
class RedisElectorTickerTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration LEASE = Duration.ofHours(1);
    /** The default margin, lease / 10: a renewal sent at t holds the lease until t + 54 minutes. */
    private static final Duration HELD_AFTER_RENEWAL = LEASE.minus(LEASE.dividedBy(10));

    private final AtomicLong ticker = new AtomicLong(Long.MAX_VALUE - 1_000);
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        scheduler.shutdownNow();
    }

    private RedisElector.Builder builder() {
        RedisConnector connector = RedisConnector.connect(redis.server().uri());
        toClose.add(connector);
        return RedisElector.builder(connector).service("logic").nodeId("a").lease(LEASE)
                .renewInterval(Duration.ofMillis(100)).replicaTimeout(Duration.ofMillis(50)).confirmReplicas(0)
                .ticker(ticker::get).scheduler(scheduler);
    }

    private RedisElector start(RedisElector.Builder builder) {
        RedisElector elector = builder.build();
        toClose.add(elector);
        return elector;
    }

    /** Waits until a renewal sent at the ticker's present reading has been confirmed. */
    private static void awaitRenewalAtPresent(RedisElector elector) {
        Await.until(Duration.ofSeconds(5), "a renewal at the present reading",
                () -> elector.leaseRemaining().compareTo(HELD_AFTER_RENEWAL.minusMinutes(1)) > 0);
    }

    private void move(Duration by) {
        ticker.addAndGet(by.toNanos());
    }

    @Test
    void afterADataLossTheCandidateLeadsExactlyOneLeaseAfterItsAnswer() throws Exception {
        RedisElector elector = start(builder()); // Redis holds no epoch: a new deployment, or one that lost its data
        List<Role> told = new CopyOnWriteArrayList<>();
        elector.onChange(told::add);
        awaitRenewalAtPresent(elector);
        assertThat(elector.role()).isEqualTo(Role.WAIT);

        move(LEASE.dividedBy(2));
        awaitRenewalAtPresent(elector); // the lease is renewed meanwhile; the wait goes on
        assertThat(elector.role()).isEqualTo(Role.WAIT);
        move(LEASE.dividedBy(2).minusNanos(1));
        assertThat(elector.role()).isEqualTo(Role.WAIT);
        assertThat(elector.epoch()).as("a waiting candidate reports the epoch it knew before").isZero();

        move(Duration.ofNanos(1));

        assertThat(elector.role()).isEqualTo(Role.LEADER);
        assertThat(elector.epoch()).isEqualTo(1);
        Await.until(Duration.ofSeconds(5), "LEADER announced", () -> told.contains(Role.LEADER));
        assertThat(told).doesNotContain(Role.FOLLOWER);
    }

    @Test
    void aLeaderWhoseRenewalsStopLeadsUntilItsLeaseLessTheMarginEndsAndNotANanosecondLonger() throws Exception {
        try (RedisProbe probe = redis.server().probe()) {
            probe.command("SET", "braid:{elect:logic}:epoch", "7"); // intact data: the first candidate leads at once
        }
        RedisElector elector = start(builder());
        Await.until(Duration.ofSeconds(5), "a leads", elector::isLeader);
        assertThat(elector.epoch()).isEqualTo(8);

        elector.partitionForTest(); // no renewal is sent from now on; every one so far was sent at the present reading
        move(HELD_AFTER_RENEWAL.minusNanos(1));
        assertThat(elector.role()).isEqualTo(Role.LEADER);

        move(Duration.ofNanos(1));

        assertThat(elector.role()).isEqualTo(Role.WAIT);
        assertThat(elector.epoch()).isEqualTo(8);
    }

    @Test
    void aBuilderChangedAfterBuildChangesNothingBuilt() throws Exception {
        try (RedisProbe probe = redis.server().probe()) {
            probe.command("SET", "braid:{elect:logic}:epoch", "1");
        }
        RedisElector.Builder builder = builder();
        RedisElector elector = start(builder);
        // Were any of these read now, the lease would be milliseconds long, or timed on a clock stuck in the past.
        builder.lease(Duration.ofMillis(30)).renewInterval(Duration.ofMillis(5)).safetyMargin(Duration.ofMillis(1))
                .replicaTimeout(Duration.ofMillis(1)).ticker(() -> Long.MIN_VALUE).service("other").nodeId("b");
        Await.until(Duration.ofSeconds(5), "a leads", elector::isLeader);

        awaitRenewalAtPresent(elector);
        move(HELD_AFTER_RENEWAL.minusMinutes(2));

        assertThat(elector.role()).isEqualTo(Role.LEADER);
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .as("on a borrowed scheduler the elector starts no thread of its own").noneMatch(n -> n.startsWith("braid-elector"));
        assertThat(elector.service()).isEqualTo("logic");
        assertThat(elector.nodeId()).isEqualTo("a");
        try (RedisProbe probe = redis.server().probe()) {
            assertThat((Long) probe.command("PTTL", "braid:{elect:logic}:leader")).isGreaterThan(Duration.ofMinutes(50).toMillis());
        }
    }
}
