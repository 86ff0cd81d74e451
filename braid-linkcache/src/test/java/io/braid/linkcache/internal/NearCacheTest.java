package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Link;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The near cache on its own, under a ticker the test moves: the TTL (lazy: checked on read and on
 * write, swept by the writes), the size bound, and the heap an entry costs (issue 18: at most
 * 100 bytes). The ticker starts near {@code Long.MAX_VALUE}, so every TTL here ends past the wrap.
 */
class NearCacheTest {
    private static final Duration TTL = Duration.ofSeconds(10);
    private static final String SERVICE = "logic";

    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - TTL.toNanos() / 2);
    private final OwnerIds owners = new OwnerIds();

    private NearCache cache(long maximumSize) {
        return new NearCache(maximumSize, TTL, now::get, owners);
    }

    private static Link link(String owner, long epoch) {
        return new Link(owner, epoch);
    }

    /** Puts a link for {@code token} as a read from Redis does (the newer of two kept). */
    private static NearCache.Entry put(NearCache cache, String token, Link link) {
        return cache.merge(token, SERVICE, cache.entry(link),
                (held, offered) -> offered.link().epoch() > held.link().epoch() ? offered : held);
    }

    @Test
    void anEntryIsServedUntilItsTtlThenMissesAndIsRemovedByTheRead() {
        NearCache cache = cache(100);
        long written = now.get();
        put(cache, "player-1", link("logic-a", 5));

        now.set(written + TTL.toNanos() - 1);
        assertThat(cache.get("player-1", SERVICE)).as("one nanosecond inside the TTL").isNotNull()
                .satisfies(entry -> assertThat(entry.link()).isEqualTo(link("logic-a", 5)));

        now.set(written + TTL.toNanos());
        assertThat(cache.get("player-1", SERVICE)).as("at the TTL").isNull();
        assertThat(cache.size(SERVICE)).as("the read removed it").isZero();
    }

    @Test
    void aWriteTakesAnExpiredEntryForNoneEvenOverItsHigherEpoch() {
        NearCache cache = cache(100);
        long written = now.get();
        put(cache, "player-1", link("logic-a", 9));
        put(cache, "player-1", link("logic-b", 3));
        assertThat(cache.get("player-1", SERVICE).link()).as("a lower epoch never replaces a live entry")
                .isEqualTo(link("logic-a", 9));

        now.set(written + TTL.toNanos());
        put(cache, "player-1", link("logic-b", 3));
        assertThat(cache.get("player-1", SERVICE).link()).as("the TTL ends what the epoch rule held")
                .isEqualTo(link("logic-b", 3));
    }

    @Test
    void anInvalidationDoesNotReviveAnExpiredEntry() {
        NearCache cache = cache(100);
        put(cache, "player-1", link("logic-a", 9));
        now.addAndGet(TTL.toNanos());

        cache.computeIfPresent("player-1", SERVICE, held -> held);

        assertThat(cache.size(SERVICE)).isZero();
        assertThat(cache.get("player-1", SERVICE)).isNull();
    }

    @Test
    void writesSweepTheExpiredEntriesNobodyReads() {
        NearCache cache = cache(10_000);
        for (int i = 0; i < 100; i++) {
            put(cache, "old-" + i, link("logic-a", i + 1));
        }
        now.addAndGet(TTL.toNanos());
        // Each write looks at SWEEP_STEPS entries: 400 writes walk the at most 500 entries more than once.
        for (int i = 0; i < 400; i++) {
            put(cache, "new-" + i, link("logic-a", i + 1));
        }
        assertThat(cache.size(SERVICE)).as("the 100 expired entries are gone without a read").isEqualTo(400);
    }

    @Test
    void theSizeBoundHoldsAfterEveryWriteAndTheNewestStays() {
        NearCache cache = cache(3);
        for (int i = 0; i < 50; i++) {
            now.incrementAndGet();
            put(cache, "player-" + i, link("logic-a", i + 1));
            assertThat(cache.size(SERVICE)).as("after write %d", i).isLessThanOrEqualTo(3);
            assertThat(cache.get("player-" + i, SERVICE)).as("the entry just written, %d", i).isNotNull();
        }
        assertThat(cache.size("other")).as("each service has its own bound").isZero();
    }

    /**
     * Four threads write, read and invalidate 1,000 tokens at once under a bound of 100: once they
     * are done the bound holds (each write's own eviction runs after its put, so the last one to
     * run sees every put), and every put answered what it left held.
     */
    @Test
    void theBoundHoldsOnceConcurrentWritersAreDone() throws Exception {
        NearCache cache = cache(100);
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        String token = "player-" + (i * 7 + thread * 13) % 1_000;
                        now.incrementAndGet();
                        NearCache.Entry held = put(cache, token, link("logic-" + thread, i + 1));
                        if (held == null) {
                            throw new AssertionError("a put of " + token + " left nothing held");
                        }
                        cache.get("player-" + i % 1_000, SERVICE);
                        if (i % 100 == 0) {
                            cache.invalidate(token, SERVICE);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> thread : done) {
                thread.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(cache.size(SERVICE)).isBetween(1L, 100L);
    }

    @Test
    void aTargetAndALinkHitAnswerWithSharedFutures() {
        NearCache cache = cache(100);
        put(cache, "player-1", link("logic-a", 1));
        put(cache, "player-2", link(new String("logic-a"), 2));
        NearCache.Entry one = cache.get("player-1", SERVICE);
        NearCache.Entry two = cache.get("player-2", SERVICE);

        assertThat(cache.target(one)).as("one future per owner").isSameAs(cache.target(two));
        assertThat(cache.target(one).join()).contains("logic-a");
        assertThat(one.linkOf()).as("made on the first hit, then kept").isSameAs(one.linkOf());
        assertThat(one.linkOf().join()).contains(link("logic-a", 1));
        assertThat(one.link()).as("the link, once the entry holds its future").isEqualTo(link("logic-a", 1));
    }

    /**
     * Heap per entry (issue 18: at most 100 bytes), {@link NearCacheFootprint} in a JVM of its own
     * with the serial collector, as braid-bench's scale section measures: 200,000 entries.
     * Measured 85.5 B on 2026-12-06 (87.4 B with 1,000,000); the Caffeine cache before it (an
     * entry, a link and Caffeine's expire-after-write node per token): 157.5 B (146.1 B).
     */
    @Test
    void anEntryCostsAtMostOneHundredBytesOfHeap() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-XX:+UseSerialGC", "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), NearCacheFootprint.class.getName(), "200000")
                .redirectErrorStream(true).start();
        String output;
        try (var out = child.getInputStream()) {
            output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the measuring JVM ended").isTrue();
        assertThat(child.exitValue()).as(output).isZero();
        Matcher figure = Pattern.compile("bytes-per-entry=([0-9.]+)").matcher(output);
        assertThat(figure.find()).as(output).isTrue();
        assertThat(Double.parseDouble(figure.group(1))).as("heap bytes per near-cache entry").isLessThanOrEqualTo(100.0);
    }
}
