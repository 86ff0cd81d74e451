package io.braid.linkcache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.redis.RedisConnector;
import io.braid.redis.RedisErrors;
import io.braid.redis.RedisScript;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Links on Redis with a Caffeine near cache in front: a warm lookup makes no Redis round trip.
 *
 * <p>Keys: {@code braid:{ls:K}:tok:T} HASH service to node id, and {@code braid:{ls:K}:node:N}
 * SET of the node's tokens (the reverse index behind {@link #linkCountAsync}), where K is the
 * token's shard ({@code (token.hashCode() & 0x7fffffff) % shards}). Both keys of a change share
 * one hash tag, so every change is one script on one Cluster slot and the two never drift apart; a
 * node's tokens are spread over the shards, which {@link #linkCountAsync} and {@link #downAsync}
 * visit (they are rare).
 *
 * <p>Near cache: a bounded Caffeine cache of (token, service) to node id. Relink, unlink and down
 * broadcast an invalidation on the {@code braid:linkcache} channel, which every instance applies at
 * once; a missed broadcast is repaired by the cache's TTL. Thread-safe; {@link #close()} does not
 * close the borrowed {@link RedisConnector}.
 */
public final class RedisLinkCache implements LinkCache {
    static final String CHANNEL = "braid:linkcache";
    private static final String NODE_PREFIX = "node:";
    private static final String TOKEN_PREFIX = "tok:";
    private static final char SEPARATOR = '\u0000';

    private static final Logger log = LoggerFactory.getLogger(RedisLinkCache.class);
    private static final RedisScript LINK = RedisScript.resource(RedisLinkCache.class, "link.lua");
    private static final RedisScript RELINK = RedisScript.resource(RedisLinkCache.class, "relink.lua");
    private static final RedisScript UNLINK_ALL = RedisScript.resource(RedisLinkCache.class, "unlink-all.lua");
    private static final RedisScript UNLINK_IF = RedisScript.resource(RedisLinkCache.class, "unlink-if.lua");
    private static final RedisScript DOWN = RedisScript.resource(RedisLinkCache.class, "down.lua");

    private final RedisConnector redis;
    private final int shards;
    private final Cache<String, String> near;
    private final LinkCacheListener listener;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Grows with every invalidation. A read that saw it change while Redis answered does not
     * cache its answer: the answer may be older than the invalidation.
     */
    private final java.util.concurrent.atomic.AtomicLong invalidations = new java.util.concurrent.atomic.AtomicLong();

    private RedisLinkCache(Builder b) {
        this.redis = b.redis;
        this.shards = b.shards;
        this.listener = b.listener;
        this.near = b.nearCache
                ? Caffeine.newBuilder().maximumSize(b.nearCacheSize).expireAfterWrite(b.nearCacheTtl).build()
                : null;
        if (near != null) {
            pubSub = redis.newPubSub();
            pubSub.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    onInvalidation(message);
                }
            });
            try {
                pubSub.sync().subscribe(CHANNEL);
            } catch (RuntimeException e) {
                pubSub.closeAsync();
                throw RedisErrors.toBraid("link cache cannot subscribe on " + redis.description(), e);
            }
        } else {
            pubSub = null;
        }
    }

    public static Builder builder(RedisConnector redis) {
        return new Builder(redis);
    }

    @Override
    public CompletableFuture<Optional<String>> targetAsync(String token, String service) {
        Tokens.require(token);
        requireService(service);
        if (near != null) {
            String cached = near.getIfPresent(nearKey(token, service));
            if (cached != null) {
                listener.lookup(service, LinkCacheListener.Outcome.NEAR_HIT);
                return CompletableFuture.completedFuture(Optional.of(cached));
            }
        }
        long seen = invalidations.get();
        return redis.async().hget(tokenKey(token), service).toCompletableFuture()
                .handle((owner, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot read the link of token " + token, failure);
                    }
                    cache(token, service, owner, seen);
                    listener.lookup(service, owner != null ? LinkCacheListener.Outcome.REDIS_HIT
                            : LinkCacheListener.Outcome.MISS);
                    return Optional.ofNullable(owner);
                });
    }

    @Override
    public CompletableFuture<String> linkAsync(String token, Node candidate) {
        Tokens.require(token);
        Objects.requireNonNull(candidate, "candidate");
        long seen = invalidations.get();
        return redis.<String>eval(LINK, ScriptOutputType.VALUE,
                        new String[] {tokenKey(token), nodeKey(token, candidate.id())},
                        candidate.service(), candidate.id(), token)
                .handle((owner, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot link token " + token, failure);
                    }
                    cache(token, candidate.service(), owner, seen);
                    return owner;
                });
    }

    @Override
    public CompletableFuture<Void> relinkAsync(String token, Node node) {
        Tokens.require(token);
        Objects.requireNonNull(node, "node");
        long seen = invalidations.get();
        return redis.<String>eval(RELINK, ScriptOutputType.VALUE,
                        new String[] {tokenKey(token), nodeKey(token, node.id())},
                        node.service(), node.id(), token, shardPrefix(token))
                .handle((old, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot relink token " + token, failure);
                    }
                    if (near != null) {
                        // An invalidation that arrived while we waited may be newer than this answer.
                        if (invalidations.get() == seen) {
                            near.put(nearKey(token, node.service()), node.id());
                        } else {
                            near.invalidate(nearKey(token, node.service()));
                        }
                    }
                    if (!node.id().equals(old)) {
                        broadcast(tokenMessage(token, node.service()));
                    }
                    listener.relinked(node.service());
                    return null;
                });
    }

    @Override
    public CompletableFuture<Integer> unlinkAsync(String token) {
        Tokens.require(token);
        return redis.<List<Object>>eval(UNLINK_ALL, ScriptOutputType.MULTI, new String[] {tokenKey(token)},
                        token, shardPrefix(token))
                .handle((removed, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot unlink token " + token, failure);
                    }
                    int count = removed.size() / 2;
                    for (int i = 0; i + 1 < removed.size(); i += 2) {
                        String service = String.valueOf(removed.get(i));
                        invalidateLocally(token, service);
                        broadcast(tokenMessage(token, service));
                    }
                    return count;
                });
    }

    @Override
    public CompletableFuture<Boolean> unlinkAsync(String token, Node owner) {
        Tokens.require(token);
        Objects.requireNonNull(owner, "owner");
        return redis.<Long>eval(UNLINK_IF, ScriptOutputType.INTEGER,
                        new String[] {tokenKey(token), nodeKey(token, owner.id())}, owner.service(), owner.id(), token)
                .handle((removed, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot unlink token " + token, failure);
                    }
                    if (removed == 1L) {
                        invalidateLocally(token, owner.service());
                        broadcast(tokenMessage(token, owner.service()));
                        return true;
                    }
                    return false;
                });
    }

    @Override
    public CompletableFuture<Long> downAsync(Node node) {
        Objects.requireNonNull(node, "node");
        List<CompletableFuture<Long>> perShard = new ArrayList<>(shards);
        for (int shard = 0; shard < shards; shard++) {
            String prefix = shardPrefix(shard);
            perShard.add(redis.<Long>eval(DOWN, ScriptOutputType.INTEGER, new String[] {prefix + ":" + NODE_PREFIX + node.id()},
                    node.service(), node.id(), prefix));
        }
        return CompletableFuture.allOf(perShard.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> {
            // Some shards may have been cleared even if others failed: tell everyone either way.
            forgetNode(node.id());
            broadcast(nodeMessage(node.id()));
            if (failure != null) {
                throw RedisErrors.toBraid("cannot remove the links of node " + node.id(), failure);
            }
            return perShard.stream().mapToLong(CompletableFuture::join).sum();
        });
    }

    @Override
    public CompletableFuture<Long> linkCountAsync(String nodeId) {
        Objects.requireNonNull(nodeId, "nodeId");
        List<CompletableFuture<Long>> perShard = new ArrayList<>(shards);
        for (int shard = 0; shard < shards; shard++) {
            perShard.add(redis.async().scard(shardPrefix(shard) + ":" + NODE_PREFIX + nodeId).toCompletableFuture());
        }
        return CompletableFuture.allOf(perShard.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> {
            if (failure != null) {
                throw RedisErrors.toBraid("cannot count the links of node " + nodeId, failure);
            }
            return perShard.stream().mapToLong(CompletableFuture::join).sum();
        });
    }

    @Override
    public void forgetNode(String nodeId) {
        if (near != null) {
            invalidations.incrementAndGet();
            near.asMap().values().removeIf(nodeId::equals);
        }
    }

    private void cache(String token, String service, String owner, long invalidationsSeen) {
        if (owner != null && near != null && invalidations.get() == invalidationsSeen) {
            near.put(nearKey(token, service), owner);
        }
    }

    private void invalidateLocally(String token, String service) {
        if (near != null) {
            invalidations.incrementAndGet();
            near.invalidate(nearKey(token, service));
        }
    }

    /** Another instance changed a link: drop what we cached for it. */
    private void onInvalidation(String message) {
        if (message.startsWith(NODE_PREFIX)) {
            forgetNode(message.substring(NODE_PREFIX.length()));
        } else if (message.startsWith(TOKEN_PREFIX) && near != null) {
            invalidations.incrementAndGet();
            near.invalidate(message.substring(TOKEN_PREFIX.length()));
        }
    }

    /** Tells every instance (this one's own cache is already right; instances without a cache ignore it). */
    private void broadcast(String message) {
        redis.async().publish(CHANNEL, message).exceptionally(failure -> {
            log.debug("invalidation broadcast failed ({}); near caches catch up within their TTL", failure.getMessage());
            return 0L;
        });
    }

    private static String tokenMessage(String token, String service) {
        return TOKEN_PREFIX + nearKey(token, service);
    }

    private static String nodeMessage(String nodeId) {
        return NODE_PREFIX + nodeId;
    }

    private static String nearKey(String token, String service) {
        return token + SEPARATOR + service;
    }

    int shardOf(String token) {
        return (token.hashCode() & 0x7fffffff) % shards;
    }

    private String shardPrefix(String token) {
        return shardPrefix(shardOf(token));
    }

    private static String shardPrefix(int shard) {
        return "braid:{ls:" + shard + "}";
    }

    String tokenKey(String token) {
        return shardPrefix(token) + ":" + TOKEN_PREFIX + token;
    }

    private String nodeKey(String token, String nodeId) {
        return shardPrefix(token) + ":" + NODE_PREFIX + nodeId;
    }


    private static void requireService(String service) {
        if (service == null || service.isBlank()) {
            throw new IllegalArgumentException("service must not be blank");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && pubSub != null) {
            pubSub.close();
        }
    }

    /** Settings; each setter validates at once. */
    public static final class Builder {
        private final RedisConnector redis;
        private long nearCacheSize = 100_000;
        private Duration nearCacheTtl = Duration.ofSeconds(10);
        private boolean nearCache = true;
        private int shards = 64;
        private LinkCacheListener listener = LinkCacheListener.NONE;

        private Builder(RedisConnector redis) {
            this.redis = Objects.requireNonNull(redis, "redis");
        }

        /** Most (token, service) entries the near cache holds; default 100,000. */
        public Builder nearCacheSize(long size) {
            if (size < 1) {
                throw new IllegalArgumentException("nearCacheSize must be at least 1, was " + size);
            }
            this.nearCacheSize = size;
            return this;
        }

        /** Longest a near-cache entry lives, which bounds staleness after a missed broadcast; default 10 s. */
        public Builder nearCacheTtl(Duration ttl) {
            Objects.requireNonNull(ttl, "nearCacheTtl");
            if (ttl.isNegative() || ttl.isZero()) {
                throw new IllegalArgumentException("nearCacheTtl must be positive, was " + ttl);
            }
            this.nearCacheTtl = ttl;
            return this;
        }

        /** Whether to keep a near cache; without it every lookup reads Redis. Default true. */
        public Builder nearCache(boolean enabled) {
            this.nearCache = enabled;
            return this;
        }

        /**
         * Shards of the reverse index, 1..16384; default 64. Every cluster node must use the same
         * number: it is part of the key layout.
         */
        public Builder shards(int shards) {
            if (shards < 1 || shards > 16_384) {
                throw new IllegalArgumentException("shards must be in 1..16384, was " + shards);
            }
            this.shards = shards;
            return this;
        }

        /** Hears how lookups are answered and when tokens are relinked; default none. */
        public Builder listener(LinkCacheListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        public RedisLinkCache build() {
            return new RedisLinkCache(this);
        }
    }
}
