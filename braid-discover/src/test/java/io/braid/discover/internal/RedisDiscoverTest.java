package io.braid.discover.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The contract on one real redis-server, plus what only Redis can do: restart, pause, overrides, garbage. */
class RedisDiscoverTest extends DiscoverContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration FAST_HEARTBEAT = Duration.ofMillis(200);
    private static final Duration FAST_TTL = Duration.ofMillis(800);

    @org.junit.jupiter.api.BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @Override
    protected Discover newMember() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));
        return RedisDiscover.builder(connector).build();
    }

    /** A member with short timings, for tests that wait out a TTL. */
    private Discover fastMember() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));
        Discover discover = RedisDiscover.builder(connector).heartbeat(FAST_HEARTBEAT).ttl(FAST_TTL)
                .resyncInterval(FAST_HEARTBEAT).protectGrace(Duration.ofSeconds(5)).build();
        return closeAfterMembers(discover);
    }

    @Override
    protected void crash(Discover member) {
        ((RedisDiscover) member).haltAsIfCrashed();
    }

    @Override
    protected Duration crashDetectionBound() {
        return Duration.ofSeconds(3 + 1); // TTL + 1 s, at the default TTL
    }

    @Test
    void redisRestartedEmptyLosesNoNodeFromTheWatchersView() throws Exception {
        Discover watcher = fastMember();
        for (int i = 1; i <= 3; i++) {
            fastMember().register(node("logic-" + i, "logic", 7000 + i));
        }
        await("watcher sees 3", Duration.ofSeconds(2), () -> watcher.nodes("logic").size() == 3);
        Recorder recorder = new Recorder();
        watcher.watch(recorder);

        redis.server().kill();
        redis.server().restartEmpty();

        // Every node puts itself back within a few heartbeats; meanwhile the watcher holds its view.
        try (RedisProbe probe = redis.server().probe()) {
            await("all 3 re-registered in Redis", Duration.ofSeconds(5),
                    () -> Long.valueOf(3).equals(probe.command("ZCARD", RedisDiscover.nodesKey("logic"))));
        }
        assertThat(watcher.nodes("logic")).extracting(Node::id).containsExactly("logic-1", "logic-2", "logic-3");
        assertThat(recorder.events).noneMatch(e -> e.type() == DiscoverEvent.Type.REMOVED);
    }

    /**
     * The race behind a flaky run of the test above, made certain: after FLUSHALL two of three nodes
     * are back before the watcher reads again. Two of three is above the protection threshold, so a
     * drop judged by numbers alone takes the third node for gone while it is only slower to come back
     * (its players would then be given away). The store itself must tell that it lost data.
     */
    @Test
    void aFlushIsSeenAsDataLossEvenWhenMostNodesAreBackBeforeTheWatcherReads() throws Exception {
        try (io.braid.testkit.TcpProxy proxy = io.braid.testkit.TcpProxy.to(redis.server().host(), redis.server().port())) {
            Discover watcher = slowMember(proxy.uri("redis"));
            List<Discover> members = List.of(slowMember(redis.server().uri()), slowMember(redis.server().uri()),
                    slowMember(redis.server().uri()));
            for (int i = 0; i < 3; i++) {
                members.get(i).register(node("logic-" + (i + 1), "logic", 7001 + i));
            }
            await("watcher sees 3", Duration.ofSeconds(2), () -> watcher.nodes("logic").size() == 3);
            Recorder recorder = new Recorder();
            watcher.watch(recorder);

            // The watcher hears nothing while Redis is flushed and two of the three come back; the
            // third comes back only at its next heartbeat, seconds later.
            proxy.blackhole();
            redis.server().flushAll();
            members.get(0).register(node("logic-1", "logic", 7001));
            members.get(1).register(node("logic-2", "logic", 7002));
            proxy.restore();
            await("watcher has read the two", Duration.ofSeconds(5),
                    () -> ((RedisDiscover) watcher).refresh("logic").join().stream().anyMatch(n -> n.id().equals("logic-1")));

            assertThat(watcher.nodes("logic")).extracting(Node::id).containsExactly("logic-1", "logic-2", "logic-3");
            assertThat(recorder.events).noneMatch(e -> e.type() == DiscoverEvent.Type.REMOVED);
        }
    }

    /**
     * The race behind a flaky run of the test above: an announcement that arrives while the re-read
     * an earlier one started is still on its way must not be dropped as a duplicate, or the watcher
     * misses the later join until its next periodic resync (20 s here). The watcher's replies are
     * held while the second node joins, so its first re-read cannot have seen it.
     */
    @Test
    void aJoinAnnouncedWhileTheWatcherIsStillReadingTheLastOneIsNotLost() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean holding = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        io.braid.testkit.TcpProxy.Tap holdReplies = (connection, direction, bytes, offset, length) -> {
            boolean push = new String(bytes, offset, length, java.nio.charset.StandardCharsets.US_ASCII).contains("message");
            if (holding.get() && direction == io.braid.testkit.TcpProxy.Direction.TO_CLIENT && !push) {
                held.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (io.braid.testkit.TcpProxy proxy = io.braid.testkit.TcpProxy.to(
                new java.net.InetSocketAddress(redis.server().host(), redis.server().port()), holdReplies)) {
            Discover watcher = slowMember(proxy.uri("redis"));
            Discover first = slowMember(redis.server().uri());
            Discover second = slowMember(redis.server().uri());

            holding.set(true);
            first.register(node("logic-1", "logic", 7001));
            assertThat(held.await(5, TimeUnit.SECONDS)).as("the watcher's re-read after the first join is held").isTrue();
            second.register(node("logic-2", "logic", 7002));
            holding.set(false);
            release.countDown();

            await("watcher sees both", Duration.ofSeconds(3), () -> watcher.nodes("logic").size() == 2);
            assertThat(watcher.nodes("logic")).extracting(Node::id).containsExactly("logic-1", "logic-2");
        } finally {
            release.countDown();
        }
    }

    /** A member whose heartbeats and resyncs are seconds apart: nothing happens unless the test does it. */
    private Discover slowMember(String uri) {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(uri));
        return closeAfterMembers(RedisDiscover.builder(connector).heartbeat(Duration.ofSeconds(5))
                .ttl(Duration.ofSeconds(30)).resyncInterval(Duration.ofSeconds(20)).protectGrace(Duration.ofSeconds(10))
                .build());
    }

    @Test
    void redisPausedLongerThanTheTtlHealsByItself() throws Exception {
        Discover watcher = fastMember();
        Discover owner = fastMember();
        owner.register(node("logic-1", "logic", 7001));
        owner.register(node("logic-2", "logic", 7002));
        await("watcher sees 2", Duration.ofSeconds(2), () -> watcher.nodes("logic").size() == 2);
        Recorder recorder = new Recorder();
        watcher.watch(recorder);

        redis.server().pause();
        try {
            TimeUnit.MILLISECONDS.sleep(FAST_TTL.toMillis() * 2); // the fault lasts this long: records expire meanwhile
        } finally {
            redis.server().resume();
        }

        try (RedisProbe probe = redis.server().probe()) {
            await("both re-registered", Duration.ofSeconds(5),
                    () -> Long.valueOf(2).equals(probe.command("ZCARD", RedisDiscover.nodesKey("logic"))));
        }
        assertThat(watcher.nodes("logic")).extracting(Node::id).containsExactly("logic-1", "logic-2");
        assertThat(recorder.events).noneMatch(e -> e.type() == DiscoverEvent.Type.REMOVED);
    }

    /** A watcher whose timing policies read {@code ticker}, on a scheduler the test owns. */
    private RedisDiscover.Builder watcherOn(java.util.concurrent.ScheduledExecutorService scheduler,
                                            java.util.concurrent.atomic.AtomicLong ticker) {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));
        return RedisDiscover.builder(connector).ticker(ticker::get).scheduler(scheduler)
                .protectGrace(Duration.ofMinutes(10));
    }

    /** Registers logic-1..3 with members that then crash, and waits until {@code watcher} sees all three. */
    private void threeNodesThatCrash(Discover watcher) {
        for (int i = 1; i <= 3; i++) {
            Discover owner = member();
            owner.register(node("logic-" + i, "logic", 7000 + i));
            crash(owner);
        }
        await("watcher sees 3", Duration.ofSeconds(3), () -> watcher.nodes("logic").size() == 3);
    }

    @Test
    void vanishedNodesAreHeldUntilProtectGraceHasPassedOnTheTicker() throws Exception {
        java.util.concurrent.ScheduledExecutorService scheduler = java.util.concurrent.Executors.newScheduledThreadPool(2);
        closeAfterMembers(scheduler::shutdownNow);
        java.util.concurrent.atomic.AtomicLong ticker = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE - 1_000);
        Discover watcher = closeAfterMembers(watcherOn(scheduler, ticker).build());
        threeNodesThatCrash(watcher);
        Recorder recorder = new Recorder();
        watcher.watch(recorder);

        redis.server().flushAll(); // every record gone at once, as after a restart without data

        assertThat(watcher.refresh("logic").get(5, TimeUnit.SECONDS)).hasSize(3); // protection begins now
        ticker.addAndGet(Duration.ofMinutes(10).toNanos() - 1); // past Long.MAX_VALUE: differences still hold
        assertThat(watcher.refresh("logic").get(5, TimeUnit.SECONDS)).hasSize(3);
        assertThat(recorder.events).isEmpty();

        ticker.incrementAndGet(); // the grace is over
        assertThat(watcher.refresh("logic").get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(recorder.events).extracting(DiscoverEvent::type).containsOnly(DiscoverEvent.Type.REMOVED).hasSize(3);
        assertThat(Thread.getAllStackTraces().keySet()).filteredOn(Thread::isAlive).extracting(Thread::getName)
                .as("the crashed owners' threads have ended; the watcher, on a borrowed scheduler, started none")
                .noneMatch("braid-discover"::equals);
        watcher.close();
        assertThat(scheduler.isShutdown()).as("a borrowed scheduler is left to its owner").isFalse();
    }

    @Test
    void aBuilderChangedAfterBuildChangesNothingBuilt() throws Exception {
        java.util.concurrent.ScheduledExecutorService scheduler = java.util.concurrent.Executors.newScheduledThreadPool(1);
        closeAfterMembers(scheduler::shutdownNow);
        java.util.concurrent.atomic.AtomicLong ticker = new java.util.concurrent.atomic.AtomicLong();
        RedisDiscover.Builder builder = watcherOn(scheduler, ticker);
        Discover watcher = closeAfterMembers(builder.build());
        // Each of these, were it read now, would drop the vanished nodes at the next resync.
        builder.protectThreshold(0).protectGrace(Duration.ofNanos(1)).ticker(() -> Long.MIN_VALUE)
                .heartbeat(Duration.ofMillis(1)).ttl(Duration.ofMillis(2)).resyncInterval(Duration.ofMillis(1));
        threeNodesThatCrash(watcher);

        redis.server().flushAll();

        assertThat(watcher.refresh("logic").get(5, TimeUnit.SECONDS)).hasSize(3);
        ticker.addAndGet(Duration.ofMinutes(1).toNanos());
        assertThat(watcher.refresh("logic").get(5, TimeUnit.SECONDS)).hasSize(3);
    }

    @Test
    void anOperatorOverrideReachesEveryWatcherAsUpdated() throws Exception {
        Discover watcher = member();
        Discover owner = member();
        Node logic1 = node("logic-1", "logic", 7001);
        owner.register(logic1);
        await("watcher sees it", Duration.ofSeconds(1), () -> watcher.nodes("logic").contains(logic1));
        Recorder recorder = new Recorder();
        watcher.watch(recorder);

        try (RedisProbe probe = redis.server().probe()) {
            // What an operator types in redis-cli.
            probe.command("HSET", RedisDiscover.overrideKey("logic", "logic-1"), "state", "DRAINING", "weight", "5");
            probe.command("PUBLISH", RedisDiscover.EVENTS_CHANNEL, "logic");
            await("UPDATED with the override", Duration.ofSeconds(1), () -> !recorder.events.isEmpty());
            assertThat(recorder.events.get(0)).isEqualTo(
                    DiscoverEvent.updated(logic1, logic1.withState(NodeState.DRAINING).withWeight(5)));

            // Without a PUBLISH the next resync finds the change too.
            probe.command("DEL", RedisDiscover.overrideKey("logic", "logic-1"));
            await("override lifted", Duration.ofSeconds(3), () -> watcher.nodes("logic").contains(logic1));
        }
    }

    @Test
    void garbageInRedisIsIgnoredAndTheRestStillServes() throws Exception {
        Discover watcher = member();
        member().register(node("logic-1", "logic", 7001));
        try (RedisProbe probe = redis.server().probe()) {
            probe.command("ZADD", RedisDiscover.nodesKey("logic"), "99999999999999", "junk");
            probe.command("HSET", RedisDiscover.nodeKey("logic", "junk"), "id", "junk", "port", "not-a-port");
            probe.command("ZADD", RedisDiscover.nodesKey("logic"), "99999999999999", "logic-1x");
            probe.command("HSET", RedisDiscover.nodeKey("logic", "logic-1x"), "id", "logic-1x", "service", "logic",
                    "host", "127.0.0.1", "port", "7009", "weight", "100", "state", "ACTIVE");
            probe.command("HSET", RedisDiscover.overrideKey("logic", "logic-1x"), "weight", "lots");
            probe.command("PUBLISH", RedisDiscover.EVENTS_CHANNEL, "logic");
        }

        await("the valid hand-written node appears", Duration.ofSeconds(2), () -> watcher.nodes("logic").size() == 2);
        assertThat(watcher.nodes("logic")).extracting(Node::id).containsExactly("logic-1", "logic-1x");
        assertThat(watcher.nodes("logic").get(1).weight()).isEqualTo(100); // the bad override is ignored
    }

    /** See {@link RecordRaces#activeNeverComesBackAfterDraining}. */
    @Test
    void aHeartbeatNeverBringsBackActiveAfterDraining() throws Exception {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));
        RecordRaces.activeNeverComesBackAfterDraining(this::closeAfterMembers, connector, key -> redis.server().probe());
    }

    /** See {@link RecordRaces#aLeftNodeNeverComesBack}. */
    @Test
    void aHeartbeatNeverBringsBackADeregisteredNode() throws Exception {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));
        RecordRaces.aLeftNodeNeverComesBack(this::closeAfterMembers, connector, key -> redis.server().probe());
    }

    @Test
    void anUnreachableRedisAtStartIsAClearError() throws Exception {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }

        assertThatThrownBy(() -> RedisConnector.connect("redis://127.0.0.1:" + closedPort))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                .hasMessageContaining("127.0.0.1:" + closedPort);
    }

    @Test
    void settingsAreValidated() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));

        assertThatThrownBy(() -> RedisDiscover.builder(connector).heartbeat(Duration.ofSeconds(2)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("ttl");
        assertThatThrownBy(() -> RedisDiscover.builder(connector).protectThreshold(1.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("protectThreshold");
    }
}
