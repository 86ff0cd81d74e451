package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.internal.LinkCacheListener;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A near-cache answer never outlives what the cache can vouch for: when the invalidations that
 * would have corrected it may have been lost (the pub/sub connection killed, Redis restarted
 * empty), a cache answers the new owner (or reads it) within {@link #BOUND} of the change, never
 * the old owner after that. Run on one redis-server and on a Redis Cluster.
 *
 * <p>What is measured is strict: an answer "A" is a violation only when the lookup that gave it
 * <em>started</em> more than {@link #BOUND} after the change had returned.
 */
abstract class NearCacheTrustContract {
    /** The staleness bound under test: the builder's default. */
    static final Duration BOUND = RedisLinkCache.DEFAULT_STALENESS_BOUND;
    /** How long a test watches a cache after the change (beyond the bound). */
    static final Duration WATCH_PAST_BOUND = Duration.ofMillis(700);
    /** Generous room for a deployment to come back after a restart. */
    static final Duration RECOVERY = Duration.ofSeconds(20);

    private static final AtomicInteger PORTS = new AtomicInteger(7500);

    private final List<AutoCloseable> closeLastFirst = new ArrayList<>();

    /** A new connector to the deployment under test (direct, no proxy), with the default command timeout. */
    protected abstract RedisConnector connect();

    /** {@code CLIENT KILL TYPE pubsub} on every node of the deployment. */
    protected abstract void killPubSubConnections();

    /** FLUSHALL on every master: the data is gone, the connections stay (data loss without a restart). */
    protected abstract void flushAll();

    /** Every node restarts without its data, cutting every connection; returns once the deployment serves again. */
    protected abstract void restartEmpty();

    /** A cache of its own ("a gateway"), on a connector of its own; both closed after the test. */
    protected final LinkCache gateway() {
        return gateway(LinkCacheListener.NONE);
    }

    protected final LinkCache gateway(LinkCacheListener listener) {
        RedisConnector connector = closeAfterTest(connect());
        return closeAfterTest(RedisLinkCache.builder(connector).listener(listener).build());
    }

    /** Records the near cache's distrust periods and how lookups were answered. */
    static final class Heard implements LinkCacheListener {
        final List<DistrustReason> distrusted = new CopyOnWriteArrayList<>();
        final AtomicInteger nearHits = new AtomicInteger();

        @Override
        public void nearCacheDistrusted(DistrustReason reason) {
            distrusted.add(reason);
        }

        @Override
        public void lookup(String service, Outcome outcome) {
            if (outcome == Outcome.NEAR_HIT) {
                nearHits.incrementAndGet();
            }
        }
    }

    protected final <T extends AutoCloseable> T closeAfterTest(T resource) {
        closeLastFirst.add(resource);
        return resource;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeLastFirst.size() - 1; i >= 0; i--) {
            closeLastFirst.get(i).close();
        }
        closeLastFirst.clear();
    }

    static Node node(String id) {
        return Node.of(id, "logic", "127.0.0.1", PORTS.getAndIncrement(), 100);
    }

    /** (a) The invalidation of a relink is lost with the killed pub/sub connection. */
    @Test
    void aRelinkMissedWhileThePubSubConnectionWasKilledIsSeenWithinTheBound() {
        LinkCache first = gateway();
        LinkCache second = gateway();
        Node a = node("logic-a");
        Node b = node("logic-b");
        for (int round = 0; round < 3; round++) {
            String token = "killed-" + round;
            assertThat(first.link(token, a)).isEqualTo("logic-a");
            assertThat(first.target(token, "logic")).contains("logic-a"); // cached by the link
            assertThat(second.target(token, "logic")).contains("logic-a");

            killPubSubConnections();
            second.relink(token, b);
            long changed = System.nanoTime();

            Watch watch = watch(first, token, changed, BOUND.plus(WATCH_PAST_BOUND));
            watch.assertNeverStaleAfterTheBound("logic-a");
            assertThat(watch.last).as("round %d: the first gateway's answer at the end", round)
                    .isEqualTo("logic-b");
        }
    }

    /**
     * The distrust is a period, not the end of the near cache: after the killed subscription comes
     * back, the cache vouches again and answers from memory; the listener heard one period.
     */
    @Test
    void aCacheVouchesAgainOnceItsSubscriptionIsBackAndTellsItsListener() {
        Heard heard = new Heard();
        LinkCache cache = gateway(heard);
        cache.link("player-1", node("logic-a"));
        assertThat(cache.target("player-1", "logic")).contains("logic-a");
        assertThat(heard.nearHits.get()).as("a warm lookup from memory").isEqualTo(1);
        assertThat(heard.distrusted).isEmpty();

        killPubSubConnections();

        Await.until(RECOVERY, "the listener hears the cache stop vouching", () -> !heard.distrusted.isEmpty());
        assertThat(heard.distrusted.get(0)).isIn(LinkCacheListener.DistrustReason.DISCONNECTED,
                LinkCacheListener.DistrustReason.RESUBSCRIBED);
        Await.until(RECOVERY, "lookups are answered from memory again", () -> {
            int before = heard.nearHits.get();
            return cache.target("player-1", "logic").equals(Optional.of("logic-a")) && heard.nearHits.get() > before;
        });
        System.out.printf("distrust periods heard: %s%n", heard.distrusted);
        assertThat(heard.distrusted).as("one period for one kill").hasSize(1);
    }

    /** (b) Redis comes back empty; another gateway links the player to B; the first had A cached. */
    @Test
    void aRedisRestartedEmptyDoesNotLeaveTheOldOwnerInANearCache() {
        LinkCache first = gateway();
        LinkCache second = gateway();
        Node a = node("logic-a");
        Node b = node("logic-b");
        String token = "restarted";
        assertThat(first.link(token, a)).isEqualTo("logic-a");
        assertThat(first.target(token, "logic")).contains("logic-a");

        restartEmpty();
        Await.until(RECOVERY, "the second gateway links the player again after the restart", () -> {
            try {
                return second.link(token, b).equals("logic-b");
            } catch (BraidException unavailableYet) {
                return false;
            }
        });
        long changed = System.nanoTime();

        Watch watch = watch(first, token, changed, BOUND.plus(WATCH_PAST_BOUND));
        watch.assertNeverStaleAfterTheBound("logic-a");
        Await.until(RECOVERY, "the first gateway answers logic-b",
                () -> first.target(token, "logic").equals(Optional.of("logic-b")));
    }

    /**
     * Data lost without a connection dropped (FLUSHALL; a failover to a replica that missed the
     * last writes): nothing tells the first gateway, whose entry for A outlives the link in Redis.
     * When another gateway then links the player anew, its first link must reach the first
     * gateway's near cache like any change.
     */
    @Test
    void aLinkMadeAfterTheDataWasLostReachesANearCacheThatHeldTheOldOwner() {
        LinkCache first = gateway();
        LinkCache second = gateway();
        String token = "flushed";
        assertThat(first.link(token, node("logic-a"))).isEqualTo("logic-a");
        assertThat(first.target(token, "logic")).contains("logic-a");

        flushAll();
        assertThat(second.link(token, node("logic-b"))).as("the link was gone: first writer again").isEqualTo("logic-b");
        long changed = System.nanoTime();

        Watch watch = watch(first, token, changed, BOUND.plus(WATCH_PAST_BOUND));
        watch.assertNeverStaleAfterTheBound("logic-a");
        assertThat(watch.last).isEqualTo("logic-b");
    }

    /** What a cache answered for one token while a test watched it. */
    static final class Watch {
        final long changed;
        final List<String> violations = new ArrayList<>();
        /** Lookups that ended in an error (Redis unreachable) or that were still waiting when the watch ended. */
        int failed;
        int answered;
        /** The last answer: a node id, "none", "failed" or "pending". */
        String last;
        long lastStaleStartedMillis = -1;
        int staleAfterBound;

        void violation(String what) {
            staleAfterBound++;
            if (violations.size() < 2) {
                violations.add(what);
            } else {
                violations.set(1, what);
            }
        }

        Watch(long changed) {
            this.changed = changed;
        }

        void assertNeverStaleAfterTheBound(String oldOwner) {
            System.out.printf("%d answers, %d failed or pending; the old owner last answered by a lookup that "
                    + "started %d ms after the change (bound %d ms)%n", answered, failed,
                    lastStaleStartedMillis, BOUND.toMillis());
            assertThat(violations).as("lookups started more than %d ms after the change that answered %s "
                    + "(%d in all; the first and last shown)", BOUND.toMillis(), oldOwner, staleAfterBound).isEmpty();
        }
    }

    /**
     * Looks the token up on {@code cache} one lookup at a time until {@code length} after
     * {@code changed}, recording every answer of "logic-a" from a lookup started after the bound.
     * A lookup that does not finish within 100 ms counts as pending and the next one starts.
     */
    static Watch watch(LinkCache cache, String token, long changed, Duration length) {
        Watch watch = new Watch(changed);
        long end = changed + length.toNanos();
        long boundEnd = changed + BOUND.toNanos();
        List<CompletableFuture<Optional<String>>> pending = new ArrayList<>();
        while (System.nanoTime() - end < 0) {
            long started = System.nanoTime();
            CompletableFuture<Optional<String>> lookup;
            try {
                lookup = cache.targetAsync(token, "logic");
            } catch (BraidException e) {
                watch.failed++;
                watch.last = "failed";
                continue;
            }
            String answer;
            try {
                answer = lookup.get(100, TimeUnit.MILLISECONDS).orElse("none");
                watch.answered++;
            } catch (ExecutionException e) {
                answer = "failed";
                watch.failed++;
            } catch (TimeoutException e) {
                answer = "pending";
                watch.failed++;
                pending.add(lookup);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            watch.last = answer;
            LockSupport.parkNanos(200_000); // a lookup every ~0.2 ms is fine-grained enough, and leaves the CPU to others
            if (answer.equals("logic-a")) {
                watch.lastStaleStartedMillis = (started - changed) / 1_000_000;
                if (started - boundEnd > 0) {
                    watch.violation("started " + (started - changed) / 1_000_000 + " ms after the change");
                }
            }
        }
        for (CompletableFuture<Optional<String>> late : pending) {
            // A lookup that waited on an unreachable Redis must fail, not answer the old owner late.
            try {
                Optional<String> answer = late.get(10, TimeUnit.SECONDS);
                if (answer.equals(Optional.of("logic-a"))) {
                    watch.violation("a pending lookup answered logic-a late");
                }
            } catch (ExecutionException | TimeoutException e) {
                // failed (UNAVAILABLE) or still waiting: not the old owner
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        return watch;
    }
}
