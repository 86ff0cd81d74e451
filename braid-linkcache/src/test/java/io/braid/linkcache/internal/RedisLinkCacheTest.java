package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.LinkWatcher;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.BusyRedis;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The contract on one real redis-server, plus what only Redis has: the near cache (no round trip
 * when warm, a TTL that bounds staleness), the key layout, Redis lost and back, garbage in Redis.
 */
class RedisLinkCacheTest extends LinkCacheContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    /** The default number of shards, part of the key layout. */
    private static final int SHARDS = 64;

    /**
     * The command timeout of the members' connections. The bulk tests put 20,000 commands in
     * flight at once, which a busy 2-CPU machine running Netty's paranoid leak detector does not
     * answer within the default 2 s; here a timeout only means "hung". The test about Redis going
     * away uses the default.
     */
    static final Duration BULK_COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private RedisProbe probe;

    @BeforeEach
    void emptyRedis() {
        if (!redis.server().isRunning()) {
            redis.server().restart(); // a test that killed it failed before restarting it
        }
        probe = redis.server().probe();
        probe.command("FLUSHALL");
    }

    @AfterEach
    void closeProbe() {
        probe.close();
    }

    @Override
    protected LinkCache newMember() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri(), BULK_COMMAND_TIMEOUT));
        return RedisLinkCache.builder(connector).build();
    }

    @Override
    protected LinkCache newMember(LinkWatcher watcher) {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri(), BULK_COMMAND_TIMEOUT));
        return RedisLinkCache.builder(connector).watcher(watcher).build();
    }

    /** A member with its own settings, on its own connection (bulk timeout); closed before that connection. */
    private LinkCache member(Function<RedisLinkCache.Builder, RedisLinkCache> settings) {
        return member(BULK_COMMAND_TIMEOUT, settings);
    }

    private LinkCache member(Duration commandTimeout, Function<RedisLinkCache.Builder, RedisLinkCache> settings) {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri(), commandTimeout));
        return closeAfterMembers(settings.apply(RedisLinkCache.builder(connector)));
    }

    /** Without persistence the server comes back empty. */
    @Override
    protected void loseAllData() {
        redis.server().restart();
    }

    @Override
    protected boolean deliverLate(String token, String service, Link older) {
        try (RedisProbe late = redis.server().probe()) {
            late.command("PUBLISH", RedisLinkCache.CHANNEL, changeMessage(token, service, older));
        }
        return true;
    }

    /** The invalidation a script publishes when (token, service) gets {@code link}: tok:T NUL S NUL epoch NUL owner. */
    static String changeMessage(String token, String service, Link link) {
        return "tok:" + token + "\u0000" + service + "\u0000" + link.epoch() + "\u0000" + link.nodeId();
    }

    /** The layout of a cache built with the defaults. */
    static final LinkKeys KEYS = new LinkKeys(SHARDS, LinkKeys.DEFAULT_BUCKETS_PER_SHARD);

    /** The bucket hash that holds the token's links. */
    static String bucketKey(String token) {
        return KEYS.bucketKey(token);
    }

    /** The token's link in a service: its field in the bucket (token NUL service). */
    static String field(String token, String service) {
        return token + "\u0000" + service;
    }

    /** The shard's counts of links per owner. */
    static String countKey(String token) {
        return KEYS.countKey(token);
    }

    static String epochKey(String token) {
        return "braid:{ls:" + shard(token) + "}:epoch";
    }

    static int shard(String token) {
        return (token.hashCode() & 0x7fffffff) % SHARDS;
    }

    /**
     * Every command Redis has run, minus the probe's own INFO (counted after it answers, so never
     * in its own reply) and the near caches' heartbeats (PUBLISH, a few a second whatever the load).
     */
    private long commandsRun() {
        Map<String, Long> calls = probe.commandCalls();
        return calls.entrySet().stream().filter(e -> !e.getKey().equals("info") && !e.getKey().equals("publish"))
                .mapToLong(Map.Entry::getValue).sum();
    }

    /**
     * Issue 18's login storm on one Redis: a logic node's first pushes to thousands of players it
     * never called claim thousands of new tokens at once, while Redis is busy (another client's
     * 25 ms scripts). Redis answers the claims all along, well within the 1 s command timeout each,
     * but not the whole burst within it: the burst must wait in the cache's own queue, where no
     * command timer runs, and not one claim may fail. Size: {@code linkcache.claimBurst}.
     */
    @Test
    void aBurstOfClaimsLargerThanRedisAnswersWithinTheTimeoutQueuesAndNoneFails() throws Exception {
        int burst = Integer.getInteger("linkcache.claimBurst", 4000);
        LinkCache cache = member(Duration.ofSeconds(1), b -> b.build());
        Node logic = node("logic-1", "game");
        try (BusyRedis busy = BusyRedis.start(redis.server(), Duration.ofMillis(25))) {
            List<CompletableFuture<Link>> sent = new java.util.ArrayList<>(burst);
            for (int i = 0; i < burst; i++) {
                sent.add(cache.claimAsync("burst-" + i, logic));
            }
            long started = System.nanoTime();
            int failed = 0;
            String firstFailure = null;
            for (CompletableFuture<Link> claim : sent) {
                try {
                    assertThat(claim.get(120, TimeUnit.SECONDS).nodeId()).isEqualTo("logic-1");
                } catch (java.util.concurrent.ExecutionException e) {
                    failed++;
                    firstFailure = firstFailure == null ? e.getCause().toString() : firstFailure;
                }
            }
            System.out.printf("a burst of %d claims while Redis ran %d busy scripts: %d failed, %d ms%n", burst,
                    busy.scripts(), failed, (System.nanoTime() - started) / 1_000_000);
            assertThat(failed).as("claims that failed; the first: %s", firstFailure).isZero();
        }
        String last = "burst-" + (burst - 1);
        assertThat(probe.command("HEXISTS", ((RedisLinkCache) cache).keys().bucketKey(last), field(last, "game")))
                .as("the last claim's link").isEqualTo(1L);
    }

    @Test
    void aWarmTargetSendsNoRedisCommand() {
        LinkCache writer = member();
        // A long staleness bound: on a loaded machine a heartbeat can come back later than the
        // default bound's three quarters, and the cache would (rightly) stop vouching mid-loop.
        LinkCache reader = member(b -> b.stalenessBound(Duration.ofSeconds(30)).build());
        writer.link("player-1", node("logic-1", "logic"));
        assertThat(reader.target("player-1", "logic")).contains("logic-1"); // the one cold read
        // A cache vouches once its first heartbeat came back (build() waits one staleness bound
        // for it); on a loaded machine that can come later, and until then every read goes to Redis.
        Await.until(Duration.ofSeconds(10), "the reader's near cache to vouch for its entry",
                () -> answeredFromMemory(reader.targetAsync("player-1", "logic")));

        long before = commandsRun();
        long readsBefore = probe.commandCalls().getOrDefault("hget", 0L);
        for (int i = 0; i < 1_000; i++) {
            CompletableFuture<Optional<String>> warm = reader.targetAsync("player-1", "logic");
            assertThat(warm).as("a near-cache hit needs no I/O").isDone();
            assertThat(warm.join()).contains("logic-1");
        }
        long after = commandsRun();

        assertThat(after - before).as("Redis commands for 1,000 warm targets").isZero();
        assertThat(probe.commandCalls().getOrDefault("hget", 0L)).isEqualTo(readsBefore);
    }

    /**
     * Many tokens, few owners: the near cache's links share one String per owner id, whether the
     * link came from the cache's own claim or from a read of another's link (each Redis reply
     * decodes the id anew: a million players on ten nodes held a million copies of ten ids).
     */
    @Test
    void theNearCachesLinksShareOneStringPerOwner() {
        RedisLinkCache claimer = (RedisLinkCache) member();
        RedisLinkCache reader = (RedisLinkCache) member(b -> b.stalenessBound(Duration.ofSeconds(30)).build());
        Node one = node("logic-1", "logic");
        Node two = node("logic-2", "logic");
        for (int i = 0; i < 100; i++) {
            claimer.claimAsync("player-" + i, i % 2 == 0 ? one : two).join();
        }
        Await.until(Duration.ofSeconds(10), "the reader vouches for its reads", () -> {
            reader.target("player-0", "logic");
            return reader.cachedLinkOf("player-0", "logic") != null;
        });
        for (int i = 0; i < 100; i++) {
            assertThat(reader.target("player-" + i, "logic")).contains(i % 2 == 0 ? "logic-1" : "logic-2");
        }
        for (RedisLinkCache cache : List.of(claimer, reader)) {
            java.util.Set<String> ids = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            int held = 0;
            for (int i = 0; i < 100; i++) {
                Link link = cache.cachedLinkOf("player-" + i, "logic");
                if (link != null) {
                    ids.add(link.nodeId());
                    held++;
                }
            }
            assertThat(held).as("links held").isGreaterThan(50);
            assertThat(ids).as("distinct id Strings among %d held links", held).hasSize(2);
        }
    }

    @Test
    void withoutANearCacheEveryTargetReadsRedis() {
        LinkCache writer = member();
        LinkCache uncached = member(b -> b.nearCache(false).build());
        writer.link("player-1", node("logic-1", "logic"));
        assertThat(uncached.target("player-1", "logic")).contains("logic-1");

        long before = commandsRun();
        for (int i = 0; i < 1_000; i++) {
            assertThat(uncached.target("player-1", "logic")).contains("logic-1");
        }

        assertThat(commandsRun() - before).isGreaterThanOrEqualTo(1_000);
        writer.relink("player-1", node("logic-2", "logic"));
        assertThat(uncached.target("player-1", "logic")).as("no cache, so never stale").contains("logic-2");
    }

    @Test
    void linksLiveInTheDocumentedKeysOfOneShard() {
        LinkCache cache = member();
        Link logic = cache.claim("player-1", node("logic-1", "logic"));
        Link chat = cache.claim("player-1", node("chat-1", "chat"));

        String bucket = bucketKey("player-1");
        assertThat(probe.command("HGETALL", bucket)).as("each link a field of the token's bucket: its owner and epoch")
                .isEqualTo(List.of("player-1\u0000logic", "logic-1\u0000" + logic.epoch(),
                        "player-1\u0000chat", "chat-1\u0000" + chat.epoch()));
        assertThat(probe.command("GET", epochKey("player-1"))).as("the shard's epoch counter")
                .isEqualTo(Long.toString(chat.epoch()));
        assertThat(probe.command("HGETALL", countKey("player-1"))).as("the shard's links per owner")
                .isEqualTo(List.of("logic-1", "1", "chat-1", "1"));
        assertThat(probe.command("OBJECT", "ENCODING", bucket)).isEqualTo("listpack");

        Link moved = cache.relink("player-1", node("logic-2", "logic"));
        assertThat(probe.command("HGETALL", countKey("player-1"))).as("the old owner's count gone at 0")
                .isEqualTo(List.of("chat-1", "1", "logic-2", "1"));
        assertThat(probe.command("HGET", bucket, field("player-1", "logic")))
                .isEqualTo("logic-2\u0000" + moved.epoch());

        assertThat(cache.unlink("player-1")).isEqualTo(2);
        assertThat(probe.command("KEYS", "braid:*")).as("nothing left behind but the shard's epoch counter")
                .isEqualTo(List.of(epochKey("player-1")));
    }

    /**
     * A shard's counter ahead of the clock (two changes in one microsecond, or a clock gone back):
     * each change of owner takes the counter plus one, never the clock's lower reading. The
     * counter is written with SET ... GET before the clock is compared with what it held, so this
     * checks the branch that writes it again.
     */
    @Test
    void aCounterAheadOfTheClockStillGrowsByOneWithEveryChangeOfOwner() {
        LinkCache cache = member();
        long ahead = 5_000_000_000_000_000L; // about 2050 in clock terms (µs × 2), below 2^53
        probe.command("SET", epochKey("player-1"), Long.toString(ahead));

        Link linked = cache.claim("player-1", node("logic-1", "logic"));
        Link relinked = cache.relink("player-1", node("logic-2", "logic"));
        Optional<Link> moved = cache.moveAsync("player-1", relinked, node("logic-3", "logic")).join();

        assertThat(linked.epoch()).as("a new link").isEqualTo(ahead + 1);
        assertThat(relinked.epoch()).as("a relink to another node").isEqualTo(ahead + 2);
        assertThat(moved).as("a move").contains(new Link("logic-3", ahead + 3));
        assertThat(probe.command("GET", epochKey("player-1"))).as("the shard's epoch counter")
                .isEqualTo(Long.toString(ahead + 3));
    }

    /**
     * The epoch counter never falls below the Redis server's clock (microseconds times two), so a
     * store flushed without a restart (FLUSHALL, no connection dropped) hands out epochs above those
     * it handed out before, and a near cache that still holds the lost link takes the new one.
     */
    @Test
    void afterAFlushTheNextEpochIsAboveEveryEarlierOneAndReachesANearCache() {
        LinkCache writer = member();
        LinkCache reader = member();
        Link before = writer.claim("player-1", node("logic-a", "logic"));
        for (int i = 0; i < 100; i++) {
            before = writer.relink("player-1", node(i % 2 == 0 ? "logic-b" : "logic-a", "logic"));
        }
        Link last = before;
        Await.until(PROPAGATION, "the reader holds the last link", () -> reader.linkOf("player-1", "logic")
                .equals(Optional.of(last)));
        List<?> time = (List<?>) probe.command("TIME");
        long redisMicros = Long.parseLong(String.valueOf(time.get(0))) * 1_000_000 + Long.parseLong(String.valueOf(time.get(1)));
        assertThat(last.epoch()).as("an epoch is the Redis clock in microseconds times two, or just above it")
                .isBetween((redisMicros - 60_000_000) * 2, redisMicros * 2);

        probe.command("FLUSHALL");
        Link after = writer.claim("player-1", node("logic-c", "logic"));

        assertThat(after.epoch()).isGreaterThan(last.epoch());
        Await.until(PROPAGATION, "the reader takes the new link over the one Redis lost",
                () -> reader.linkOf("player-1", "logic").equals(Optional.of(after)));
    }

    /**
     * A stricter form of the contract's late-invalidation test: with a near cache that vouches for
     * long, the newer link stays in memory (no read of Redis) after an older change arrives late.
     */
    @Test
    void aLateOlderChangeLeavesTheNewerLinkInTheNearCache() {
        LinkCache writer = member();
        RedisNearCacheTickerTest.Outcomes heard = new RedisNearCacheTickerTest.Outcomes();
        LinkCache reader = member(b -> b.stalenessBound(Duration.ofSeconds(30)).listener(heard).build());
        Link onA = writer.claim("player-1", node("logic-a", "logic"));
        Link onB = writer.move("player-1", onA, node("logic-b", "logic")).orElseThrow();
        writer.claim("witness", node("logic-a", "logic"));
        Await.until(PROPAGATION, "the reader answers the newer link and the witness from memory", () -> {
            CompletableFuture<Optional<Link>> answer = reader.linkOfAsync("player-1", "logic");
            boolean fromMemory = answeredFromMemory(answer) & answeredFromMemory(reader.targetAsync("witness", "logic"));
            return fromMemory && answer.join().equals(Optional.of(onB));
        });
        int lookupsBefore = heard.lookups.size();

        deliverLate("player-1", "logic", onA);
        writer.relink("witness", node("logic-b", "logic")); // published after the late change: heard after it
        Await.until(PROPAGATION, "the reader heard the witness's relink (it updates the entry in memory)", () -> {
            CompletableFuture<Optional<String>> witness = reader.targetAsync("witness", "logic");
            return answeredFromMemory(witness) && witness.join().equals(Optional.of("logic-b"));
        });

        CompletableFuture<Optional<Link>> answer = reader.linkOfAsync("player-1", "logic");
        assertThat(answer).as("still a near-cache answer").isDone();
        assertThat(answer.join()).contains(onB);
        assertThat(heard.lookups.subList(lookupsBefore, heard.lookups.size())).as("how the reader's lookups were answered (all: %s; distrusted: %s)", heard.lookups, heard.distrusted)
                .containsOnly(LinkCacheListener.Outcome.NEAR_HIT);
    }

    /**
     * Two owners under one epoch can only come from a store that lost data while its clock went
     * back: the near cache cannot tell which is current, so it keeps neither and reads Redis.
     */
    @Test
    void aChangeToAnotherOwnerUnderTheEpochItHoldsDropsTheNearCacheEntry() {
        LinkCache writer = member();
        RedisNearCacheTickerTest.Outcomes heard = new RedisNearCacheTickerTest.Outcomes();
        LinkCache reader = member(b -> b.stalenessBound(Duration.ofSeconds(30)).listener(heard).build());
        Link onA = writer.claim("player-1", node("logic-a", "logic"));
        writer.claim("witness", node("logic-a", "logic"));
        Await.until(PROPAGATION, "the reader answers both from memory", () -> {
            CompletableFuture<Optional<Link>> answer = reader.linkOfAsync("player-1", "logic");
            boolean fromMemory = answeredFromMemory(answer) & answeredFromMemory(reader.targetAsync("witness", "logic"));
            return fromMemory && answer.join().equals(Optional.of(onA));
        });

        deliverLate("player-1", "logic", new Link("logic-b", onA.epoch()));
        writer.relink("witness", node("logic-b", "logic")); // heard after the conflicting change
        Await.until(PROPAGATION, "the reader heard the witness's relink", () -> {
            CompletableFuture<Optional<String>> witness = reader.targetAsync("witness", "logic");
            return answeredFromMemory(witness) && witness.join().equals(Optional.of("logic-b"));
        });

        assertThat(reader.linkOf("player-1", "logic")).as("what Redis holds").contains(onA);
        assertThat(heard.last()).as("no longer answered from memory").isEqualTo(LinkCacheListener.Outcome.REDIS_HIT);
    }

    /**
     * A braid from before epochs publishes {@code tok:T NUL S} (removal) and {@code tok:T NUL S NUL
     * owner}: a cache drops its entry rather than ignore or misread them, and tells its watcher it
     * may have missed changes.
     */
    @Test
    void anInvalidationWithoutAnEpochDropsTheEntryAndTellsTheWatcher() {
        java.util.concurrent.atomic.AtomicInteger missed = new java.util.concurrent.atomic.AtomicInteger();
        RedisNearCacheTickerTest.Outcomes heard = new RedisNearCacheTickerTest.Outcomes();
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri(), BULK_COMMAND_TIMEOUT));
        LinkCache reader = closeAfterMembers(RedisLinkCache.builder(connector).stalenessBound(Duration.ofSeconds(30))
                .listener(heard).watcher(new LinkWatcher() {
                    @Override
                    public void changed(String token, String service, String owner, long epoch) {
                    }

                    @Override
                    public void nodeCleared(String nodeId) {
                    }

                    @Override
                    public void mayHaveMissed() {
                        missed.incrementAndGet();
                    }
                }).build());
        LinkCache writer = member();
        for (String token : List.of("removed", "changed")) {
            writer.claim(token, node("logic-a", "logic"));
            Await.until(PROPAGATION, "the reader holds " + token,
                    () -> answeredFromMemory(reader.targetAsync(token, "logic")));
        }
        int missedBefore = missed.get();

        probe.command("PUBLISH", RedisLinkCache.CHANNEL, "tok:removed\u0000logic");
        probe.command("PUBLISH", RedisLinkCache.CHANNEL, "tok:changed\u0000logic\u0000logic-b");

        Await.until(PROPAGATION, "the watcher was told twice", () -> missed.get() - missedBefore == 2);
        for (String token : List.of("removed", "changed")) {
            assertThat(reader.target(token, "logic")).as("what Redis holds for %s", token).contains("logic-a");
            assertThat(heard.last()).as("%s is no longer answered from memory", token)
                    .isEqualTo(LinkCacheListener.Outcome.REDIS_HIT);
        }
    }

    @Test
    void redisKilledFailsPromptlyWithUnavailableAndTheSameCacheWorksAfterARestart() {
        LinkCache cache = member(RedisConnector.DEFAULT_COMMAND_TIMEOUT, RedisLinkCache.Builder::build);
        Node a = node("logic-a", "logic");
        cache.link("player-1", a);

        redis.server().kill();
        long start = System.nanoTime();
        Map<String, CompletableFuture<?>> calls = new LinkedHashMap<>();
        calls.put("targetAsync", cache.targetAsync("cold-token", "logic"));
        calls.put("linkAsync", cache.linkAsync("player-2", a));
        calls.put("relinkAsync", cache.relinkAsync("player-1", node("logic-b", "logic")));
        calls.put("unlinkAsync", cache.unlinkAsync("player-1"));
        calls.put("unlinkAsync(owner)", cache.unlinkAsync("player-1", a));
        calls.put("downAsync", cache.downAsync(a));
        calls.put("linkCountAsync", cache.linkCountAsync("logic-a"));
        for (Map.Entry<String, CompletableFuture<?>> call : calls.entrySet()) {
            Throwable failure = failureOf(call.getKey(), call::getValue);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(failure).as(call.getKey()).isInstanceOf(BraidException.class);
            assertThat(((BraidException) failure).code()).as("code of %s: %s", call.getKey(), failure)
                    .isEqualTo(Code.UNAVAILABLE);
            assertThat(elapsedMillis).as("%s failed after ms", call.getKey()).isLessThan(3_000);
        }
        assertThatThrownBy(() -> cache.link("player-3", a)).isInstanceOf(BraidException.class)
                .extracting(e -> ((BraidException) e).code()).isEqualTo(Code.UNAVAILABLE);
        System.out.printf("all calls failed within %.0f ms of the kill%n", (System.nanoTime() - start) / 1e6);

        redis.server().restart(); // comes back empty: no persistence

        Await.until(Duration.ofSeconds(10), "the same cache links again", () -> "logic-a".equals(cache.link("player-2", a)));
        assertThat(cache.target("player-2", "logic")).contains("logic-a");
        assertThat(cache.linkCount("logic-a")).isEqualTo(1);

        // The invalidation subscription came back too.
        LinkCache other = member();
        Await.until(Duration.ofSeconds(10), "both members subscribed again",
                () -> ((List<?>) probe.command("PUBSUB", "NUMSUB", RedisLinkCache.CHANNEL)).get(1).equals(2L));
        other.relink("player-2", node("logic-b", "logic"));
        Await.until(PROPAGATION, "the restarted member hears the relink",
                () -> cache.target("player-2", "logic").equals(Optional.of("logic-b")));
    }

    /**
     * A relink's answer must not outlive an invalidation that arrived while this process waited
     * for it. Here the gateway's relink changes nothing in Redis (the player is already there), so
     * it broadcasts nothing; another process unlinks the player right after it; that invalidation
     * reaches the gateway before the relink's answer does (its command connection is busy). If the
     * gateway then caches the relinked owner, it routes the player to a node that no longer owns
     * them until the TTL runs out.
     */
    @Test
    void aRelinkAnswerThatArrivesAfterAnInvalidationIsNotCached() throws Exception {
        RedisConnector gatewayConnection = closeAfterMembers(RedisConnector.connect(redis.server().uri(), BULK_COMMAND_TIMEOUT));
        LinkCache gateway = closeAfterMembers(RedisLinkCache.builder(gatewayConnection).build());
        LinkCache other = member();
        Node a = node("logic-a", "logic");
        gateway.link("player-1", a);
        gateway.link("witness", a);
        gateway.relink("warm-up", a); // the scripts are loaded: no NOSCRIPT round trip below
        other.unlink("warm-up");
        assertThat(gateway.targetAsync("witness", "logic")).isDone();
        long evalshaBefore = probe.commandCalls().getOrDefault("evalsha", 0L);

        // The gateway's connection waits in BLPOP until the probe pushes; the relink queues behind
        // it. When BLPOP answers, this callback holds the connection's event loop, so the relink's
        // answer (already sent by Redis) waits unread while the invalidation arrives on the other
        // connection.
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        gatewayConnection.async().blpop(10L, "test:gate").thenRun(() -> {
            held.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CompletableFuture<Link> relink = gateway.relinkAsync("player-1", a);
        Await.until(Duration.ofSeconds(5), "the relink waits in Redis behind the BLPOP",
                () -> ((String) probe.command("CLIENT", "LIST")).lines()
                        .anyMatch(client -> client.contains("cmd=blpop") && !client.contains(" qbuf=0 ")));
        probe.command("LPUSH", "test:gate", "go");
        try {
            assertThat(held.await(5, TimeUnit.SECONDS)).as("the gateway's command connection is held").isTrue();
            Await.until(Duration.ofSeconds(2), "Redis ran the relink",
                    () -> probe.commandCalls().getOrDefault("evalsha", 0L) == evalshaBefore + 1);
            assertThat(relink).as("its answer waits behind the held connection").isNotDone();

            assertThat(other.unlink("player-1")).isEqualTo(1);
            assertThat(other.unlink("witness")).isEqualTo(1);
            Await.until(PROPAGATION, "the gateway heard both invalidations (the witness is no longer cached)",
                    () -> !gateway.targetAsync("witness", "logic").isDone());
        } finally {
            release.countDown();
        }
        relink.get(5, TimeUnit.SECONDS);

        assertThat(probe.command("HEXISTS", bucketKey("player-1"), field("player-1", "logic"))).isEqualTo(0L);
        Await.until(PROPAGATION, "the gateway sees that player-1 has no owner",
                () -> gateway.target("player-1", "logic").isEmpty());
    }

    @Test
    void garbageInRedisGivesAClearErrorAndOtherTokensStillWork() {
        LinkCache cache = member();
        Node a = node("logic-a", "logic");
        String token = "garbage-token";
        probe.command("SET", bucketKey(token), "notahash");
        // A shard's counts: in a shard of neither token, so player-1 below links as usual.
        int garbageShard = java.util.stream.IntStream.range(0, SHARDS)
                .filter(k -> k != shard(token) && k != shard("player-1")).findFirst().orElseThrow();
        probe.command("SET", LinkKeys.countKey(garbageShard), "notahash");

        Map<String, Supplier<CompletableFuture<?>>> onGarbageToken = new LinkedHashMap<>();
        onGarbageToken.put("targetAsync", () -> cache.targetAsync(token, "logic"));
        onGarbageToken.put("linkAsync", () -> cache.linkAsync(token, a));
        onGarbageToken.put("relinkAsync", () -> cache.relinkAsync(token, a));
        onGarbageToken.put("unlinkAsync", () -> cache.unlinkAsync(token));
        onGarbageToken.put("unlinkAsync(owner)", () -> cache.unlinkAsync(token, a));
        for (Map.Entry<String, Supplier<CompletableFuture<?>>> call : onGarbageToken.entrySet()) {
            assertClearGarbageError(failureOf(call.getKey() + " on a string key", () -> call.getValue().get()), token);
        }
        assertClearGarbageError(failureOf("linkCountAsync on a string key", () -> cache.linkCountAsync("garbage-node")),
                "garbage-node");
        // A shard's counts are every node's: garbage there fails every linkCount until it is gone.
        probe.command("DEL", LinkKeys.countKey(garbageShard));

        assertThat(cache.link("player-1", a)).isEqualTo("logic-a");
        assertThat(cache.target("player-1", "logic")).contains("logic-a");
        assertThat(cache.linkCount("logic-a")).isEqualTo(1);
        assertThat(probe.command("GET", bucketKey(token))).as("garbage is reported, not overwritten").isEqualTo("notahash");
    }

    private static void assertClearGarbageError(Throwable failure, String subject) {
        assertThat(failure).isInstanceOf(BraidException.class);
        assertThat(((BraidException) failure).code()).as("code of %s", failure).isNotIn(Code.UNKNOWN, Code.UNAVAILABLE);
        assertThat(failure.getMessage()).as("the message names what was wrong").contains(subject);
        for (Throwable t = failure; t != null; t = t.getCause()) {
            assertThat(t).as("cause chain of %s", failure).isNotInstanceOf(ClassCastException.class);
        }
    }

    @Test
    void theNearCacheTtlBoundsStalenessWhenTheBroadcastIsMissed() {
        LinkCache cache = member(b -> b.nearCacheTtl(Duration.ofMillis(300)).build());
        cache.link("player-1", node("logic-a", "logic"));
        assertThat(cache.target("player-1", "logic")).contains("logic-a");

        long start = System.nanoTime();
        probe.command("HSET", bucketKey("player-1"), field("player-1", "logic"), "logic-b"); // behind its back: no broadcast

        Await.until(Duration.ofSeconds(1), "the member sees the new owner once its entry expires",
                () -> cache.target("player-1", "logic").equals(Optional.of("logic-b")));
        System.out.printf("missed broadcast repaired after %.0f ms (TTL 300 ms)%n", (System.nanoTime() - start) / 1e6);
    }

    @Test
    void forgetNodeDropsNoLinkFromTheStore() {
        RedisLinkCache cache = (RedisLinkCache) member();
        Node a = node("logic-a", "logic");
        cache.link("player-1", a);
        assertThat(cache.target("player-1", "logic")).contains("logic-a");

        cache.forgetNode("logic-a");
        cache.forgetNode("never-seen");

        assertThat(cache.target("player-1", "logic")).contains("logic-a");
        assertThat(cache.linkCount("logic-a")).isEqualTo(1);
    }

    @Test
    void forgetNodeDropsTheNearCacheEntriesOfThatNodeOnly() {
        RedisLinkCache cache = (RedisLinkCache) member();
        cache.link("player-1", node("logic-a", "logic"));
        cache.link("player-2", node("logic-c", "logic"));
        assertThat(cache.target("player-1", "logic")).contains("logic-a");
        assertThat(cache.target("player-2", "logic")).contains("logic-c");
        probe.command("HSET", bucketKey("player-1"), field("player-1", "logic"), "logic-b"); // no broadcast
        probe.command("HSET", bucketKey("player-2"), field("player-2", "logic"), "logic-d");
        assertThat(cache.target("player-1", "logic")).as("served from the near cache").contains("logic-a");

        cache.forgetNode("logic-a");

        assertThat(cache.target("player-1", "logic")).contains("logic-b");
        assertThat(cache.target("player-2", "logic")).as("another node's entry stays").contains("logic-c");
    }

    @Test
    void closeUnsubscribesOnceAndLeavesTheBorrowedConnectorOpen() throws Exception {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri()));
        LinkCache cache = RedisLinkCache.builder(connector).build();
        cache.link("player-1", node("logic-a", "logic"));
        Await.until(Duration.ofSeconds(2), "only this cache subscribed (earlier tests' caches have let go)",
                () -> numSub() == 1L);

        cache.close();
        cache.close();

        Await.until(Duration.ofSeconds(2), "the cache's subscription is gone", () -> numSub() == 0L);
        assertThat(connector.async().hget(bucketKey("player-1"), field("player-1", "logic")).get(2, TimeUnit.SECONDS))
                .startsWith("logic-a\u0000");
    }

    private long numSub() {
        return (Long) ((List<?>) probe.command("PUBSUB", "NUMSUB", RedisLinkCache.CHANNEL)).get(1);
    }

    @Test
    void theBuilderRefusesBadSettingsNamingThem() {
        try (RedisConnector connector = RedisConnector.connect(redis.server().uri())) {
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).shards(0).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shards");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).bucketsPerShard(0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("bucketsPerShard must be in 1..65536, was 0");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).bucketsPerShard(65_537))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bucketsPerShard");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).nearCacheSize(0).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nearCacheSize");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).nearCacheTtl(Duration.ZERO).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nearCacheTtl");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).nearCacheTtl(null).build())
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("nearCacheTtl");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).stalenessBound(Duration.ofMillis(99)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stalenessBound")
                    .hasMessageContaining("100 ms..60000 ms");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).stalenessBound(Duration.ofSeconds(61)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stalenessBound");
            assertThatThrownBy(() -> RedisLinkCache.builder(connector).stalenessBound(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("stalenessBound");
            assertThat(RedisLinkCache.DEFAULT_STALENESS_BOUND).isEqualTo(Duration.ofSeconds(1));
            assertThatThrownBy(() -> RedisLinkCache.builder(null)).isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("redis");
        }
    }

    /**
     * Settings are read once, at build(): a builder changed afterwards (even into settings that
     * would break the cache) leaves the built cache as it was. A guard: it passed before the
     * settings were documented as copied.
     */
    @Test
    void aBuilderChangedAfterBuildChangesNothingBuilt() {
        NearCacheTrustContract.Heard first = new NearCacheTrustContract.Heard();
        NearCacheTrustContract.Heard second = new NearCacheTrustContract.Heard();
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(redis.server().uri(), BULK_COMMAND_TIMEOUT));
        RedisLinkCache.Builder builder = RedisLinkCache.builder(connector).shards(4).listener(first);
        RedisLinkCache cache = closeAfterMembers(builder.build());

        builder.shards(8).nearCache(false).listener(second).ticker(() -> Long.MIN_VALUE)
                .stalenessBound(Duration.ofMillis(100)).nearCacheTtl(Duration.ofMillis(1));

        String token = "player-built";
        cache.link(token, node("logic-a", "logic"));
        @SuppressWarnings("unchecked")
        List<String> keys = (List<String>) probe.command("KEYS", "braid:*");
        int shard = (token.hashCode() & 0x7fffffff) % 4;
        assertThat(keys).as("the key layout of 4 shards").containsExactlyInAnyOrder(
                new LinkKeys(4, LinkKeys.DEFAULT_BUCKETS_PER_SHARD).bucketKey(token), "braid:{ls:" + shard + "}:count",
                "braid:{ls:" + shard + "}:epoch");
        Await.until(Duration.ofSeconds(10), "the built cache answers from its near cache, by its own clock",
                () -> cache.target(token, "logic").equals(Optional.of("logic-a")) && first.nearHits.get() > 0);
        assertThat(second.nearHits.get()).as("the listener set after build() hears nothing").isZero();
    }

    @Test
    void membersWithTheSameShardCountShareLinks() {
        LinkCache first = member(b -> b.shards(4).build());
        LinkCache second = member(b -> b.shards(4).build());
        for (int i = 0; i < 20; i++) {
            first.link("player-" + i, node("logic-a", "logic"));
        }

        assertThat(second.linkCount("logic-a")).isEqualTo(20);
        assertThat(second.target("player-7", "logic")).contains("logic-a");
        @SuppressWarnings("unchecked")
        List<String> keys = (List<String>) probe.command("KEYS", "braid:*");
        assertThat(keys).isNotEmpty().allSatisfy(key -> assertThat(key).matches("braid:\\{ls:[0-3]}:(b:\\d+|count|epoch)"));
        assertThat(second.down(node("logic-a", "logic"))).isEqualTo(20);
    }

    /**
     * Whether a lookup was answered from memory (done at once); waits for its answer either way,
     * so no Redis read started by a polling loop is still in flight, to be heard (and counted)
     * after the loop ended.
     */
    private static boolean answeredFromMemory(CompletableFuture<?> lookup) {
        boolean fromMemory = lookup.isDone();
        lookup.join();
        return fromMemory;
    }
}
