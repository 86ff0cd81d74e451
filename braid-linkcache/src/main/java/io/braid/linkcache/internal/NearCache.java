package io.braid.linkcache.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.braid.api.Link;
import io.braid.api.Ticker;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * {@link RedisLinkCache}'s near cache: per service, a bounded Caffeine cache of token to its
 * {@link Entry} (the link, owner and epoch). A hit allocates nothing: the lookup is keyed by the
 * caller's own strings (the service picks the cache, the token is the key, so no composite key is
 * built), and an entry keeps the completed futures it answers with, made on its first asynchronous
 * hit. Each service's cache holds at most {@code maximumSize} tokens and lives {@code ttl} at most.
 *
 * <p>Thread-safe. The epoch rules (which of two links is kept) are the caller's: every change goes
 * through {@link #merge}, {@link #computeIfPresent} or a removal.
 */
final class NearCache {
    private final ConcurrentHashMap<String, Cache<String, Entry>> byService = new ConcurrentHashMap<>();
    private final Function<String, Cache<String, Entry>> newCache;

    NearCache(long maximumSize, Duration ttl, Ticker ticker) {
        // Maintenance (the read buffer's drain, evictions) runs on the thread that triggers it: handed
        // to a pool, each drain would wrap its task in a new object on the reading thread.
        this.newCache = service -> Caffeine.newBuilder().maximumSize(maximumSize).expireAfterWrite(ttl)
                .ticker(ticker::read).executor(Runnable::run).<String, Entry>build();
    }

    /** The entry of (token, service), or null. Allocates nothing. */
    Entry get(String token, String service) {
        Cache<String, Entry> cache = byService.get(service);
        return cache == null ? null : cache.getIfPresent(token);
    }

    /**
     * Puts {@code offered} unless an entry is held, else keeps what {@code keep(held, offered)}
     * answers (null removes the entry). Answers the entry now held, or null.
     */
    Entry merge(String token, String service, Entry offered, BinaryOperator<Entry> keep) {
        return cacheOf(service).asMap().merge(token, offered, keep);
    }

    /** Replaces a held entry by what {@code keep(held, token)} answers (null removes it); no entry is added. */
    void computeIfPresent(String token, String service, UnaryOperator<Entry> keep) {
        Cache<String, Entry> cache = byService.get(service);
        if (cache != null) {
            cache.asMap().computeIfPresent(token, (t, held) -> keep.apply(held));
        }
    }

    /** Removes the entry of (token, service) if it is {@code entry} itself. */
    void remove(String token, String service, Entry entry) {
        Cache<String, Entry> cache = byService.get(service);
        if (cache != null) {
            cache.asMap().remove(token, entry);
        }
    }

    /** Removes the entry of (token, service) if it holds {@code link}. */
    void removeLink(String token, String service, Link link) {
        computeIfPresent(token, service, held -> held.link().equals(link) ? null : held);
    }

    void invalidate(String token, String service) {
        Cache<String, Entry> cache = byService.get(service);
        if (cache != null) {
            cache.invalidate(token);
        }
    }

    /** Drops every entry whose owner is {@code nodeId}. */
    void removeNode(String nodeId) {
        for (Cache<String, Entry> cache : byService.values()) {
            cache.asMap().values().removeIf(entry -> entry.link().nodeId().equals(nodeId));
        }
    }

    void invalidateAll() {
        for (Cache<String, Entry> cache : byService.values()) {
            cache.invalidateAll();
        }
    }

    private Cache<String, Entry> cacheOf(String service) {
        Cache<String, Entry> cache = byService.get(service);
        return cache != null ? cache : byService.computeIfAbsent(service, newCache);
    }

    /**
     * A cached link and the completed futures a hit answers with. The futures are made on the
     * first hit that asks for them (two racing hits may each make one; both are right) and shared
     * by every later hit, so a caller must not complete or obtrude them (completing is a no-op on
     * a completed future; obtruding is what no caller of a lookup does).
     */
    static final class Entry {
        private final Link link;
        private volatile CompletableFuture<Optional<String>> target;
        private volatile CompletableFuture<Optional<Link>> linkOf;

        Entry(Link link) {
            this.link = link;
        }

        Link link() {
            return link;
        }

        CompletableFuture<Optional<String>> target() {
            CompletableFuture<Optional<String>> answer = target;
            if (answer == null) {
                answer = CompletableFuture.completedFuture(Optional.of(link.nodeId()));
                target = answer;
            }
            return answer;
        }

        CompletableFuture<Optional<Link>> linkOf() {
            CompletableFuture<Optional<Link>> answer = linkOf;
            if (answer == null) {
                answer = CompletableFuture.completedFuture(Optional.of(link));
                linkOf = answer;
            }
            return answer;
        }
    }
}
