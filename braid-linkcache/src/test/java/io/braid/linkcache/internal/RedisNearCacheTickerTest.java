package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Node;
import io.braid.api.Ticker;
import io.braid.api.internal.LinkCacheListener;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The near cache's trust under a ticker the test moves and a scheduler that runs a heartbeat only
 * when told: the staleness bound is checked by moving time, not by waiting for it. (The real-socket
 * proof, a black-holed gateway, is {@link RedisNearCacheTrustTest}.)
 */
class RedisNearCacheTickerTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration BOUND = RedisLinkCache.DEFAULT_STALENESS_BOUND;
    private static final Node A = Node.of("logic-a", "logic", "127.0.0.1", 7801, 100);

    /** Starts half a bound short of Long.MAX_VALUE: the bound's end wraps to a negative reading. */
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - BOUND.toNanos() / 2);
    private final Ticker ticker = now::get;
    private final HeldScheduler scheduler = new HeldScheduler();
    private final Outcomes heard = new Outcomes();
    private RedisConnector connector;

    @BeforeEach
    void connect() {
        redis.server().flushAll();
        connector = RedisConnector.connect(redis.server().uri());
    }

    @AfterEach
    void close() {
        connector.close();
        scheduler.shutdownNow();
    }

    /** What the listener heard: each lookup's outcome and each start of distrust. */
    static final class Outcomes implements LinkCacheListener {
        final List<Outcome> lookups = new CopyOnWriteArrayList<>();
        final List<DistrustReason> distrusted = new CopyOnWriteArrayList<>();

        @Override
        public void lookup(String service, Outcome outcome) {
            lookups.add(outcome);
        }

        @Override
        public void nearCacheDistrusted(DistrustReason reason) {
            distrusted.add(reason);
        }

        Outcome last() {
            return lookups.getLast();
        }
    }

    private RedisLinkCache cache() {
        return RedisLinkCache.builder(connector).ticker(ticker).scheduler(scheduler).listener(heard).build();
    }

    /** A lookup of {@code token}; asserts its answer (logic-a) and returns how it was answered. */
    private LinkCacheListener.Outcome lookup(RedisLinkCache cache, String token) throws Exception {
        CompletableFuture<Optional<String>> answer = cache.targetAsync(token, "logic");
        assertThat(answer.get(5, TimeUnit.SECONDS)).contains("logic-a");
        return heard.last();
    }

    @Test
    void theCacheStopsVouchingOnceTheTickerPassesTheNewestHeartbeatPlusTheBound() throws Exception {
        long sent = now.get(); // build() sends the first heartbeat with this reading
        try (RedisLinkCache cache = cache()) {
            cache.link("player-1", A);
            Await.until(Duration.ofSeconds(10), "the first heartbeat came back and the cache answers from memory",
                    () -> cache.target("player-1", "logic").isPresent()
                            && heard.last() == LinkCacheListener.Outcome.NEAR_HIT);

            now.set(sent + BOUND.toNanos() - 1);
            assertThat(lookup(cache, "player-1")).as("one nanosecond inside the bound")
                    .isEqualTo(LinkCacheListener.Outcome.NEAR_HIT);

            now.set(sent + BOUND.toNanos());
            assertThat(lookup(cache, "player-1")).as("at the bound, with no heartbeat run since")
                    .isEqualTo(LinkCacheListener.Outcome.REDIS_HIT);
            assertThat(lookup(cache, "player-1")).as("an answer read while not vouching is not cached")
                    .isEqualTo(LinkCacheListener.Outcome.REDIS_HIT);
            assertThat(heard.distrusted).as("the lookups stopped trusting; only the watchdog tells").isEmpty();

            scheduler.runHeld(); // the watchdog sees the lapse, then sends a heartbeat stamped now

            assertThat(heard.distrusted).containsExactly(LinkCacheListener.DistrustReason.SILENT);
            Await.until(Duration.ofSeconds(10), "the new heartbeat came back and the cache vouches again",
                    () -> cache.target("player-1", "logic").isPresent()
                            && heard.last() == LinkCacheListener.Outcome.NEAR_HIT);
            now.set(sent + 2 * BOUND.toNanos() - 1);
            assertThat(lookup(cache, "player-1")).as("vouched until the new heartbeat plus the bound")
                    .isEqualTo(LinkCacheListener.Outcome.NEAR_HIT);
            now.set(sent + 2 * BOUND.toNanos());
            assertThat(lookup(cache, "player-1")).isEqualTo(LinkCacheListener.Outcome.REDIS_HIT);
        }
    }

    /**
     * The TTL ends an entry while the cache still vouches (a bound of a minute): the lookup at the
     * TTL reads Redis, and its answer is cached anew. Expiry is checked on each read (NearCache).
     */
    @Test
    void anEntryIsNotServedFromTheTtlOnWhileTheCacheStillVouches() throws Exception {
        Duration ttl = Duration.ofSeconds(2);
        try (RedisLinkCache cache = RedisLinkCache.builder(connector).ticker(ticker).scheduler(scheduler)
                .listener(heard).stalenessBound(Duration.ofMinutes(1)).nearCacheTtl(ttl).build()) {
            long written = now.get(); // the ticker stands still until moved: the claim's answer is cached now
            cache.link("player-1", A);
            Await.until(Duration.ofSeconds(10), "the first heartbeat came back and the cache answers from memory",
                    () -> cache.target("player-1", "logic").isPresent()
                            && heard.last() == LinkCacheListener.Outcome.NEAR_HIT);

            now.set(written + ttl.toNanos() - 1);
            assertThat(lookup(cache, "player-1")).as("one nanosecond inside the TTL")
                    .isEqualTo(LinkCacheListener.Outcome.NEAR_HIT);

            now.set(written + ttl.toNanos());
            assertThat(lookup(cache, "player-1")).as("at the TTL, the cache still vouching")
                    .isEqualTo(LinkCacheListener.Outcome.REDIS_HIT);
            assertThat(lookup(cache, "player-1")).as("the answer read at the TTL is cached anew")
                    .isEqualTo(LinkCacheListener.Outcome.NEAR_HIT);
            assertThat(heard.distrusted).isEmpty();
        }
    }

    @Test
    void heartbeatsRunOnTheLentSchedulerWhichCloseNeverShutsDown() throws Exception {
        RedisLinkCache cache = cache();
        assertThat(scheduler.held).as("one periodic task: the heartbeat, four per bound").singleElement()
                .satisfies(h -> assertThat(h.periodNanos()).isEqualTo(BOUND.toNanos() / 4));

        cache.close();

        HeldScheduler.Held heartbeat = scheduler.held.getFirst();
        assertThat(heartbeat.handle().isCancelled()).as("close cancels the heartbeat").isTrue();
        assertThat(scheduler.isShutdown()).as("a lent scheduler is not the cache's to shut down").isFalse();
        assertThat(scheduler.submit(() -> "still runs").get(5, TimeUnit.SECONDS)).isEqualTo("still runs");
        heartbeat.task().run(); // a heartbeat that raced the close sends nothing and hears nothing
        assertThat(heard.distrusted).isEmpty();
    }
}
