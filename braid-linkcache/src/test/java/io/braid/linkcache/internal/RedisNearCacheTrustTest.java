package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.internal.LinkCacheListener;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.TcpProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The near cache's trust on one redis-server: the faults of the contract, plus a pub/sub link that
 * goes silent without closing (black-holed through a {@link TcpProxy}) and the race between a
 * lookup's read and an invalidation.
 */
class RedisNearCacheTrustTest extends NearCacheTrustContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @BeforeEach
    void emptyRedis() {
        if (!redis.server().isRunning()) {
            redis.server().restart();
        }
        redis.server().flushAll();
    }

    @Override
    protected RedisConnector connect() {
        return RedisConnector.connect(redis.server().uri());
    }

    @Override
    protected void killPubSubConnections() {
        try (RedisProbe probe = redis.server().probe()) {
            assertThat((Long) probe.command("CLIENT", "KILL", "TYPE", "pubsub")).as("pub/sub connections killed")
                    .isPositive();
        }
    }

    @Override
    protected void flushAll() {
        redis.server().flushAll();
    }

    @Override
    protected void restartEmpty() {
        redis.server().restartEmpty();
    }

    /**
     * (c) Only the first gateway's link to Redis goes silent (both its connections, through the
     * proxy); the second gateway, talking to Redis directly, moves the player. The first cannot
     * hear the invalidation and cannot read Redis: within the bound it must stop answering the old
     * owner, and fail UNAVAILABLE instead; once the link heals it answers the new owner.
     */
    @Test
    void aBlackHoledGatewayStopsVouchingForItsEntriesWithinTheBound() {
        TcpProxy proxy = closeAfterTest(TcpProxy.to(redis.server().host(), redis.server().port()));
        RedisConnector cut = closeAfterTest(RedisConnector.connect(proxy.uri("redis")));
        Heard heard = new Heard();
        LinkCache first = closeAfterTest(RedisLinkCache.builder(cut).listener(heard).build());
        LinkCache second = gateway();
        Node a = node("logic-a");
        Node b = node("logic-b");
        String token = "cut-off";
        assertThat(first.link(token, a)).isEqualTo("logic-a");
        assertThat(first.target(token, "logic")).contains("logic-a");

        proxy.blackhole();
        second.relink(token, b);
        long changed = System.nanoTime();

        Watch watch = watch(first, token, changed, BOUND.plus(WATCH_PAST_BOUND));
        watch.assertNeverStaleAfterTheBound("logic-a");
        assertThat(watch.last).as("what the cut-off gateway gives at the end: no answer").isIn("failed", "pending");
        assertThat(heard.distrusted).as("the listener heard the silence").contains(LinkCacheListener.DistrustReason.SILENT);
        long asked = System.nanoTime();
        Throwable failure = failureOf(first.targetAsync(token, "logic"));
        System.out.printf("a lookup on the cut-off gateway failed after %.0f ms: %s%n",
                (System.nanoTime() - asked) / 1e6, failure);
        assertThat(failure).isInstanceOf(BraidException.class);
        assertThat(((BraidException) failure).code()).isEqualTo(Code.UNAVAILABLE);

        proxy.restore();
        Await.until(RECOVERY, "the healed gateway answers the new owner from memory again", () -> {
            int before = heard.nearHits.get();
            return first.target(token, "logic").equals(Optional.of("logic-b")) && heard.nearHits.get() > before;
        });
    }

    private static Throwable failureOf(CompletableFuture<?> lookup) {
        try {
            Object value = lookup.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + value);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the lookup neither failed nor answered within 10 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * (d) The check-then-put window: a lookup misses, reads the old owner from Redis, and the
     * invalidation of a relink lands while its answer is being put in the near cache. Many rounds,
     * each racing a batch of lookups against a batch of relinks of the same tokens; afterwards,
     * every token must be answered with its new owner as soon as the invalidations have arrived
     * (a stale entry would stay for the 10 s TTL).
     */
    @Test
    void aLookupRacingARelinkNeverLeavesTheOldOwnerCached() {
        LinkCache reader = gateway();
        LinkCache writer = gateway();
        Node a = node("logic-a");
        Node b = node("logic-b");
        Random random = new Random(14);
        int rounds = 40;
        int batch = 100;
        for (int round = 0; round < rounds; round++) {
            List<String> tokens = new ArrayList<>(batch);
            List<CompletableFuture<?>> links = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                String token = "race-" + round + "-" + i;
                tokens.add(token);
                links.add(writer.linkAsync(token, a));
            }
            LinkCacheContract.await(CompletableFuture.allOf(links.toArray(CompletableFuture[]::new)));
            List<CompletableFuture<?>> racing = new ArrayList<>(2 * batch);
            for (String token : tokens) {
                if (random.nextBoolean()) {
                    racing.add(reader.targetAsync(token, "logic"));
                    racing.add(writer.relinkAsync(token, b));
                } else {
                    racing.add(writer.relinkAsync(token, b));
                    racing.add(reader.targetAsync(token, "logic"));
                }
            }
            LinkCacheContract.await(CompletableFuture.allOf(racing.toArray(CompletableFuture[]::new)));
            AtomicReference<String> stale = new AtomicReference<>();
            int r = round;
            Await.until(BOUND.plusSeconds(1), () -> "round " + r + ": every token answered logic-b; still stale: "
                    + stale.get(), () -> {
                        for (String token : tokens) {
                            if (!reader.target(token, "logic").equals(Optional.of("logic-b"))) {
                                stale.set(token);
                                return false;
                            }
                        }
                        return true;
                    });
        }
    }
}
