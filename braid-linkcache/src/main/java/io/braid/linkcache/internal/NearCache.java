package io.braid.linkcache.internal;

import io.braid.api.Link;
import io.braid.api.Ticker;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * {@link RedisLinkCache}'s near cache: per service, a {@link ConcurrentHashMap} of token to its
 * {@link Entry} (the link and when it was cached), at most {@code maximumSize} tokens per service,
 * each answered for at most {@code ttl} after it was written.
 *
 * <p>A hit allocates nothing: the lookup is keyed by the caller's own strings (the service picks
 * the map, the token is the key, so no composite key is built); {@code targetAsync} answers with
 * its owner's one completed future ({@link OwnerIds}), {@code linkOfAsync} with one the entry makes
 * on its first such hit and keeps.
 *
 * <p>Memory is what this class is shaped by (issue 18: a million players on a gateway): an entry
 * is the map's node, its table slot, a 24-byte {@link Entry} and the {@link Link} (24 bytes; the
 * owner's id is shared). So there is no per-entry bookkeeping of recency: expiry is lazy (a read
 * of an expired entry removes it and misses; a write treats it as absent), a hand that walks the
 * map removes a few expired entries at every write, and a write that finds the service's map over
 * its bound evicts, of the next {@value #EVICTION_SAMPLE} entries at the hand, the one written
 * first (the nearest to its TTL). A Caffeine cache did this before, at about 60 bytes more per
 * entry (its node's write time and write-order and access-order links, its frequency sketch): 86
 * bytes per entry now, 158 then ({@code NearCacheTest}).
 *
 * <p>Thread-safe. The epoch rules (which of two links is kept) are the caller's: every change goes
 * through {@link #merge}, {@link #computeIfPresent} or a removal. The bound may be passed by the
 * writes in flight at one moment; each one's own eviction brings it back.
 */
final class NearCache {
    /** Entries the hand looks at per eviction: the oldest-written of them goes. */
    static final int EVICTION_SAMPLE = 4;
    /** Entries the hand looks at on every write, to remove the expired ones nobody reads. */
    static final int SWEEP_STEPS = 2;

    private final ConcurrentHashMap<String, Tokens> byService = new ConcurrentHashMap<>();
    private final Function<String, Tokens> newTokens = service -> new Tokens();
    private final long maximumSize;
    private final long ttlNanos;
    private final Ticker ticker;
    private final OwnerIds owners;

    NearCache(long maximumSize, Duration ttl, Ticker ticker, OwnerIds owners) {
        this.maximumSize = maximumSize;
        this.ttlNanos = saturatedNanos(ttl);
        this.ticker = ticker;
        this.owners = owners;
    }

    /** The entry of (token, service) if it is held and within its TTL, or null. Allocates nothing. */
    Entry get(String token, String service) {
        Tokens tokens = byService.get(service);
        if (tokens == null) {
            return null;
        }
        Entry entry = tokens.entries.get(token);
        if (entry == null) {
            return null;
        }
        if (expired(entry, ticker.read())) {
            tokens.entries.remove(token, entry);
            return null;
        }
        return entry;
    }

    /** A new entry of {@code link}, written now (its TTL runs from here). */
    Entry entry(Link link) {
        return new Entry(link, ticker.read());
    }

    /** The completed future of {@code entry}'s owner's id, shared by every hit on that owner. Allocates nothing. */
    CompletableFuture<Optional<String>> target(Entry entry) {
        return owners.owner(entry.link().nodeId()).target();
    }

    /**
     * Puts {@code offered} unless an entry is held (an expired one counts as none), else keeps what
     * {@code keep(held, offered)} answers (null removes the entry). Answers the entry now held, or null.
     */
    Entry merge(String token, String service, Entry offered, BinaryOperator<Entry> keep) {
        Tokens tokens = tokensOf(service);
        long now = ticker.read();
        Entry held = tokens.entries.compute(token,
                (t, old) -> old == null || expired(old, now) ? offered : keep.apply(old, offered));
        tokens.afterWrite(now);
        return held;
    }

    /**
     * Replaces a held entry by what {@code keep(held)} answers (null removes it); no entry is added,
     * and an expired one is removed.
     */
    void computeIfPresent(String token, String service, UnaryOperator<Entry> keep) {
        Tokens tokens = byService.get(service);
        if (tokens != null) {
            long now = ticker.read();
            tokens.entries.computeIfPresent(token, (t, held) -> expired(held, now) ? null : keep.apply(held));
        }
    }

    /** Removes the entry of (token, service) if it is {@code entry} itself. */
    void remove(String token, String service, Entry entry) {
        Tokens tokens = byService.get(service);
        if (tokens != null) {
            tokens.entries.remove(token, entry);
        }
    }

    /** Removes the entry of (token, service) if it holds {@code link}. */
    void removeLink(String token, String service, Link link) {
        computeIfPresent(token, service, held -> held.link().equals(link) ? null : held);
    }

    void invalidate(String token, String service) {
        Tokens tokens = byService.get(service);
        if (tokens != null) {
            tokens.entries.remove(token);
        }
    }

    /** Drops every entry whose owner is {@code nodeId}. */
    void removeNode(String nodeId) {
        for (Tokens tokens : byService.values()) {
            tokens.entries.values().removeIf(entry -> entry.link().nodeId().equals(nodeId));
        }
    }

    void invalidateAll() {
        for (Tokens tokens : byService.values()) {
            tokens.entries.clear();
        }
    }

    /** Entries held for {@code service}, expired ones not yet removed included (for tests). */
    long size(String service) {
        Tokens tokens = byService.get(service);
        return tokens == null ? 0 : tokens.entries.mappingCount();
    }

    private Tokens tokensOf(String service) {
        Tokens tokens = byService.get(service);
        return tokens != null ? tokens : byService.computeIfAbsent(service, newTokens);
    }

    private boolean expired(Entry entry, long now) {
        return now - entry.written >= ttlNanos;
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * One service's entries and the hand that walks them (expiry sweep, eviction). The hand is an
     * iterator of the map: it holds the table it started on, and an old one through a resize,
     * until its pass ends; so the sweep only walks once an entry may have expired (the bench's
     * and the tests' one-hour TTL never start one while the map grows).
     */
    private final class Tokens {
        final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
        /** Where the sweep and the eviction look next; null between passes. Guarded by this. */
        private Iterator<Map.Entry<String, Entry>> hand;
        /**
         * No entry was written before this (a ticker reading, about: an entry is stamped just before
         * its write). The sweep has nothing to remove until this plus the TTL. Guarded by this.
         */
        private long oldestWrite = ticker.read();
        /** The oldest write the current pass saw, or its start if older ones were not seen. Guarded by this. */
        private long passOldest;

        /** After a write: a few steps of the expiry sweep, then evictions down to the bound. Quick, no I/O. */
        synchronized void afterWrite(long now) {
            if (now - oldestWrite >= ttlNanos) {
                for (int i = 0; i < SWEEP_STEPS; i++) {
                    Map.Entry<String, Entry> slot = next(now);
                    if (slot == null) {
                        break;
                    }
                    if (expired(slot.getValue(), now)) {
                        entries.remove(slot.getKey(), slot.getValue());
                    }
                }
            }
            while (entries.mappingCount() > maximumSize) {
                if (!evictOne(now)) {
                    return;
                }
            }
        }

        /**
         * Removes the first expired entry of the next {@link #EVICTION_SAMPLE} at the hand, or
         * else the one of them written first. Answers false when there was nothing to evict.
         */
        private boolean evictOne(long now) {
            Map.Entry<String, Entry> oldest = null;
            for (int i = 0; i < EVICTION_SAMPLE; i++) {
                Map.Entry<String, Entry> slot = next(now);
                if (slot == null) {
                    break;
                }
                if (expired(slot.getValue(), now)) {
                    entries.remove(slot.getKey(), slot.getValue());
                    return true;
                }
                if (oldest == null || slot.getValue().written - oldest.getValue().written < 0) {
                    oldest = slot;
                }
            }
            if (oldest == null) {
                return false;
            }
            entries.remove(oldest.getKey(), oldest.getValue());
            return true;
        }

        /**
         * The entry at the hand, the hand moved on (a new pass started if none is under way); null
         * when there are none. A pass that ends tells the sweep how old the oldest entry can be.
         */
        private Map.Entry<String, Entry> next(long now) {
            if (hand == null) {
                hand = entries.entrySet().iterator();
                passOldest = now; // what this pass does not see is written after it started
            }
            if (!hand.hasNext()) {
                hand = null;
                oldestWrite = passOldest;
                return null;
            }
            Map.Entry<String, Entry> slot = hand.next();
            if (slot.getValue().written - passOldest < 0) {
                passOldest = slot.getValue().written;
            }
            if (!hand.hasNext()) {
                hand = null;
                oldestWrite = passOldest;
            }
            return slot;
        }
    }

    /**
     * A cached link and when it was written (a {@link Ticker} reading). 24 bytes with compressed
     * references: one field holds the link, or, once a {@code linkOfAsync} hit asked for it, the
     * completed future that answers with the link (made by that first hit; two racing hits may
     * each make one, both are right), shared by every later hit, so a caller must not complete or
     * obtrude it.
     */
    static final class Entry {
        /** The {@link Link}, or a completed {@code CompletableFuture<Optional<Link>>} of it. */
        private volatile Object answer;
        private final long written;

        private Entry(Link link, long written) {
            this.answer = link;
            this.written = written;
        }

        @SuppressWarnings("unchecked")
        Link link() {
            Object held = answer;
            return held instanceof Link link ? link
                    : ((CompletableFuture<Optional<Link>>) held).join().orElseThrow();
        }

        @SuppressWarnings("unchecked")
        CompletableFuture<Optional<Link>> linkOf() {
            Object held = answer;
            if (held instanceof Link link) {
                CompletableFuture<Optional<Link>> made = CompletableFuture.completedFuture(Optional.of(link));
                answer = made;
                return made;
            }
            return (CompletableFuture<Optional<Link>>) held;
        }
    }
}
