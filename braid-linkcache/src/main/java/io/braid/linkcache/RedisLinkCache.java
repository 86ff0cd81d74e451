package io.braid.linkcache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.Ticker;
import io.braid.redis.RedisConnector;
import io.braid.redis.RedisErrors;
import io.braid.redis.RedisScript;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>Near cache: a bounded Caffeine cache of (token, service) to node id. Link (when it creates
 * a link: a cache may hold an owner that Redis lost), relink and unlink publish an invalidation on
 * the {@code braid:linkcache} channel from inside their script (so a change is never made
 * without its invalidation being sent), down publishes one after its scripts, and every instance
 * applies them at once. A near-cache answer is given only while the
 * cache can vouch for it, that is while its invalidation subscription is known to be delivering:
 * <ul>
 *   <li>each instance publishes a heartbeat on a channel of its own, received on the same pub/sub
 *   connection as the invalidations, every quarter of the {@linkplain Builder#stalenessBound
 *   staleness bound}. Redis delivers a connection's messages in order, so a heartbeat sent at time
 *   t and received proves that every invalidation published before t has been applied. The cache
 *   answers from memory only until t + bound of the newest heartbeat received; after that a
 *   lookup reads Redis. This check is a clock read on the lookup's thread: it holds even when the
 *   pub/sub connection is silently dead (a black-holed socket) and no timer runs on time.</li>
 *   <li>the near cache is emptied when the pub/sub connection drops, on every (re)subscription
 *   (invalidations may have been missed in between), and when the heartbeats went silent past
 *   the bound (it vouches again after the next heartbeat).</li>
 *   <li>an answer read from Redis enters the near cache only if the cache vouched for itself when
 *   the read started and no invalidation or flush came between the start of the read and the
 *   end of the put (checked again after the put, which is undone if one came).</li>
 * </ul>
 * So a near-cache answer lags a change committed in Redis by at most the staleness bound
 * (default {@value #DEFAULT_STALENESS_BOUND_MILLIS} ms), whatever happened to the invalidations.
 * While the cache cannot vouch, lookups read Redis; if Redis cannot be reached either, they fail
 * {@link Code#UNAVAILABLE} (after the connector's command timeout) rather than answer from
 * memory. The heartbeat costs one PUBLISH per quarter bound per instance and no I/O per lookup.
 *
 * <p>Time and threads come from the {@link Builder}: every reading of the trust (heartbeat send
 * times, {@code vouchedUntil}, the silence watchdog) and the near cache's TTL come from one
 * {@link Builder#ticker ticker}, since a heartbeat carries its send time and is compared on arrival
 * with the same clock; heartbeats run on Lettuce's event executors unless a
 * {@link Builder#scheduler scheduler} is lent.
 *
 * <p>Thread-safe; {@link #close()} closes neither the borrowed {@link RedisConnector} nor a lent
 * scheduler (it cancels its heartbeat task there).
 */
public final class RedisLinkCache implements LinkCache {
    static final String CHANNEL = "braid:linkcache";
    /** Default of {@link Builder#stalenessBound}, in milliseconds. */
    public static final long DEFAULT_STALENESS_BOUND_MILLIS = 1_000;
    /** Default of {@link Builder#stalenessBound}. */
    public static final Duration DEFAULT_STALENESS_BOUND = Duration.ofMillis(DEFAULT_STALENESS_BOUND_MILLIS);
    static final Duration MIN_STALENESS_BOUND = Duration.ofMillis(100);
    static final Duration MAX_STALENESS_BOUND = Duration.ofMinutes(1);
    /** Heartbeats per staleness bound: three may be late or lost before the cache stops vouching. */
    private static final int HEARTBEATS_PER_BOUND = 4;
    private static final String HEARTBEAT_CHANNEL_PREFIX = CHANNEL + ":heartbeat:";
    private static final String NODE_PREFIX = "node:";
    private static final String TOKEN_PREFIX = "tok:";
    /**
     * A link made where Redis had none: {@code new:<instance>:<token>\0<service>}. The instance
     * that made it skips it (its own answer is already in its cache); instances of versions before
     * this message ignore it, as they ignored new links.
     */
    private static final String NEW_LINK_PREFIX = "new:";
    private static final char SEPARATOR = '\u0000';
    /** The stamp of a read that started while the cache could not vouch: its answer is never cached. */
    private static final long UNVOUCHED = -1;

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
    private final LinkWatcher watcher;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final long boundNanos;
    /** The clock of the near cache's trust: heartbeat send times, vouchedUntil, the watchdog. */
    private final Ticker ticker;
    /** This instance's id in its heartbeat channel and its new-link messages. */
    private final String instance;
    private final String heartbeatChannel;
    private final ScheduledFuture<?> heartbeats;
    /**
     * Grows with every invalidation and every flush. A read's answer enters the near cache only if
     * this did not move from before the read to after the put: otherwise the answer may be older
     * than the invalidation, and the put is not made (or is undone).
     */
    private final AtomicLong generation = new AtomicLong();
    /**
     * The near cache answers from memory only before this instant (a {@link #ticker} reading):
     * the send time of the newest heartbeat received on the current subscription, plus the bound.
     */
    private volatile long vouchedUntil;
    /** Whether the invalidation channel is subscribed on a live connection (confirmed by Redis). */
    private volatile boolean subscribed;
    /** Guards the changes of trust (subscribed, vouchedUntil, vouching): never held across I/O. */
    private final Object trust = new Object();
    /** Whether the cache is in a trusted period (for the listener: it hears each end once). Guarded by trust. */
    private boolean vouching;
    private final CompletableFuture<Void> firstHeartbeat = new CompletableFuture<>();
    /** On a Cluster: heartbeat rounds by send time, each with the masters whose heartbeat has not come back. */
    private final Map<Long, Set<String>> rounds = new ConcurrentHashMap<>();

    private RedisLinkCache(Builder b) {
        this.redis = b.redis;
        this.shards = b.shards;
        this.listener = b.listener;
        this.watcher = b.watcher;
        this.boundNanos = b.stalenessBound.toNanos();
        this.ticker = b.ticker;
        this.instance = Long.toHexString(ThreadLocalRandom.current().nextLong());
        this.vouchedUntil = ticker.read();
        this.near = b.nearCache
                ? Caffeine.newBuilder().maximumSize(b.nearCacheSize).expireAfterWrite(b.nearCacheTtl)
                        .ticker(ticker::read).build()
                : null;
        if (near == null && watcher == null) {
            pubSub = null;
            heartbeatChannel = null;
            heartbeats = null;
            return;
        }
        heartbeatChannel = HEARTBEAT_CHANNEL_PREFIX + instance;
        pubSub = redis.newPubSub();
        pubSub.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                if (!closed.get()) { // our own close is no fault
                    distrust(LinkCacheListener.DistrustReason.DISCONNECTED, false);
                }
            }
        });
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                if (channel.equals(heartbeatChannel)) {
                    onHeartbeat(message);
                } else {
                    onInvalidation(message);
                }
            }

            @Override
            public void subscribed(String channel, long count) {
                if (channel.equals(CHANNEL)) {
                    onSubscribed();
                }
            }
        });
        try {
            // One command: Redis confirms the invalidation channel first, then the heartbeat channel.
            pubSub.sync().subscribe(CHANNEL, heartbeatChannel);
        } catch (RuntimeException e) {
            pubSub.closeAsync();
            throw RedisErrors.toBraid("link cache cannot subscribe on " + redis.description(), e);
        }
        // The first heartbeat goes from here, whatever scheduler runs the next ones.
        heartbeat();
        long interval = Math.max(1, boundNanos / HEARTBEATS_PER_BOUND);
        ScheduledExecutorService scheduler = b.scheduler != null ? b.scheduler : pubSub.getResources().eventExecutorGroup();
        try {
            heartbeats = scheduler.scheduleAtFixedRate(this::heartbeat, interval, interval, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) { // a lent scheduler already shut down
            closed.set(true);
            pubSub.closeAsync();
            throw e;
        }
        try {
            // Start vouching, so the first lookups are cached; a late heartbeat only delays that.
            firstHeartbeat.get(b.stalenessBound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            log.info("link cache on {}: no heartbeat within {} ms; lookups read Redis until one arrives",
                    redis.description(), b.stalenessBound.toMillis());
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e); // never completed exceptionally
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static Builder builder(RedisConnector redis) {
        return new Builder(redis);
    }

    @Override
    public CompletableFuture<Optional<String>> targetAsync(String token, String service) {
        String bad = LinkArguments.tokenAndService(token, service);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        if (near != null) {
            String cached = near.getIfPresent(nearKey(token, service));
            if (cached != null && ticker.read() - vouchedUntil < 0) {
                listener.lookup(service, LinkCacheListener.Outcome.NEAR_HIT);
                return CompletableFuture.completedFuture(Optional.of(cached));
            }
        }
        long stamp = stamp();
        return redis.async().hget(tokenKey(token), service).toCompletableFuture()
                .handle((owner, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot read the link of token " + token, failure);
                    }
                    cache(token, service, owner, stamp);
                    listener.lookup(service, owner != null ? LinkCacheListener.Outcome.REDIS_HIT
                            : LinkCacheListener.Outcome.MISS);
                    return Optional.ofNullable(owner);
                });
    }

    @Override
    public CompletableFuture<String> linkAsync(String token, Node candidate) {
        String bad = LinkArguments.tokenAndNode(token, candidate, "candidate");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        long stamp = stamp();
        return redis.<String>eval(LINK, ScriptOutputType.VALUE,
                        new String[] {tokenKey(token), nodeKey(token, candidate.id())},
                        candidate.service(), candidate.id(), token, CHANNEL, newLinkMessage(token, candidate.service(), candidate.id()))
                .handle((owner, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot link token " + token, failure);
                    }
                    if (near != null && !cache(token, candidate.service(), owner, stamp)) {
                        // We skip our own new-link message: drop an entry this answer did not replace.
                        invalidateLocally(token, candidate.service());
                    }
                    return owner;
                });
    }

    @Override
    public CompletableFuture<Void> relinkAsync(String token, Node node) {
        String bad = LinkArguments.tokenAndNode(token, node, "node");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        long stamp = stamp();
        return redis.<String>eval(RELINK, ScriptOutputType.VALUE,
                        new String[] {tokenKey(token), nodeKey(token, node.id())},
                        node.service(), node.id(), token, shardPrefix(token), CHANNEL, tokenMessage(token, node.service(), node.id()))
                .handle((old, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot relink token " + token, failure);
                    }
                    if (near != null && !cache(token, node.service(), node.id(), stamp)) {
                        // Our own entry predates this change; and an invalidation that arrived while
                        // we waited may be newer than it: drop the entry rather than replace it.
                        invalidateLocally(token, node.service());
                    }
                    listener.relinked(node.service());
                    return null;
                });
    }

    @Override
    public CompletableFuture<Integer> unlinkAsync(String token) {
        String bad = LinkArguments.token(token);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return redis.<List<Object>>eval(UNLINK_ALL, ScriptOutputType.MULTI, new String[] {tokenKey(token)},
                        token, shardPrefix(token), CHANNEL, tokenMessage(token, "", null))
                .handle((removed, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot unlink token " + token, failure);
                    }
                    int count = removed.size() / 2;
                    for (int i = 0; i + 1 < removed.size(); i += 2) {
                        invalidateLocally(token, String.valueOf(removed.get(i)));
                    }
                    return count;
                });
    }

    @Override
    public CompletableFuture<Boolean> unlinkAsync(String token, Node owner) {
        String bad = LinkArguments.tokenAndNode(token, owner, "owner");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return redis.<Long>eval(UNLINK_IF, ScriptOutputType.INTEGER,
                        new String[] {tokenKey(token), nodeKey(token, owner.id())}, owner.service(), owner.id(), token,
                        CHANNEL, tokenMessage(token, owner.service(), null))
                .handle((removed, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot unlink token " + token, failure);
                    }
                    if (removed == 1L) {
                        invalidateLocally(token, owner.service());
                        return true;
                    }
                    return false;
                });
    }

    @Override
    public CompletableFuture<Long> downAsync(Node node) {
        String bad = LinkArguments.node(node, "node");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
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
        String bad = LinkArguments.nodeId(nodeId);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
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
            generation.incrementAndGet();
            near.asMap().values().removeIf(nodeId::equals);
        }
    }

    /**
     * What a read must carry to have its answer cached: the generation when it started, or
     * {@link #UNVOUCHED} when the cache could not vouch for itself then (unsubscribed, or no
     * heartbeat within the bound).
     */
    private long stamp() {
        long stamp = generation.get();
        return subscribed && ticker.read() - vouchedUntil < 0 ? stamp : UNVOUCHED;
    }

    /**
     * Puts an answer read from Redis in the near cache, unless an invalidation or a flush came
     * since the read started. The generation is checked again after the put: an invalidation that
     * landed between the first check and the put (and so removed nothing) moved it, and the put is
     * undone; one that lands after the second check removes the entry itself. Answers whether the
     * entry was put and kept.
     */
    private boolean cache(String token, String service, String owner, long stamp) {
        if (owner == null || near == null || stamp == UNVOUCHED || generation.get() != stamp) {
            return false;
        }
        String key = nearKey(token, service);
        near.put(key, owner);
        if (generation.get() != stamp) {
            near.asMap().remove(key, owner);
            return false;
        }
        return true;
    }

    private void invalidateLocally(String token, String service) {
        if (near != null) {
            generation.incrementAndGet(); // before the removal: see cache()
            near.invalidate(nearKey(token, service));
        }
    }

    /** A link changed (by another instance, or by this one): drop what we cached for it, tell the watcher. */
    private void onInvalidation(String message) {
        if (message.startsWith(NODE_PREFIX)) {
            String nodeId = message.substring(NODE_PREFIX.length());
            forgetNode(nodeId);
            if (watcher != null) {
                watcher.nodeCleared(nodeId);
            }
            return;
        }
        String change;
        boolean ours = false;
        if (message.startsWith(TOKEN_PREFIX)) {
            change = message.substring(TOKEN_PREFIX.length());
        } else if (message.startsWith(NEW_LINK_PREFIX)) {
            int end = message.indexOf(':', NEW_LINK_PREFIX.length());
            if (end < 0) {
                return; // not ours
            }
            ours = end - NEW_LINK_PREFIX.length() == instance.length()
                    && message.startsWith(instance, NEW_LINK_PREFIX.length());
            change = message.substring(end + 1);
        } else {
            return;
        }
        // token NUL service [NUL owner]
        int first = change.indexOf(SEPARATOR);
        if (first < 0) {
            return;
        }
        int second = change.indexOf(SEPARATOR, first + 1);
        String key = second < 0 ? change : change.substring(0, second);
        if (near != null && !ours) {
            // Our own new link is already in the cache (see linkAsync): only others' changes drop entries.
            generation.incrementAndGet();
            near.invalidate(key);
        }
        if (watcher != null) {
            watcher.changed(change.substring(0, first), key.substring(first + 1),
                    second < 0 ? null : change.substring(second + 1));
        }
    }

    /**
     * Redis confirmed the subscription of the invalidation channel: the first time, or again
     * after a reconnection, in which case invalidations published in between were lost. Empties
     * the near cache; it vouches again from the next heartbeat.
     */
    private void onSubscribed() {
        synchronized (trust) {
            distrust(LinkCacheListener.DistrustReason.RESUBSCRIBED, true);
            subscribed = true;
        }
    }

    /**
     * One of our heartbeats arrived: everything published before it was sent has been applied. On
     * a Cluster a round is one heartbeat per master (each master's messages reach our subscription
     * in order over its own bus link), and it counts only once every master's has arrived.
     */
    private void onHeartbeat(String message) {
        int colon = message.indexOf(':');
        long sent;
        try {
            sent = Long.parseLong(colon < 0 ? message : message.substring(colon + 1));
        } catch (NumberFormatException e) {
            return; // not ours
        }
        if (colon >= 0) {
            Set<String> missing = rounds.get(sent);
            if (missing == null || !missing.remove(message.substring(0, colon)) || !missing.isEmpty()
                    || rounds.remove(sent) == null) {
                return; // unknown, duplicate, or the round is not complete yet
            }
        }
        synchronized (trust) {
            if (!subscribed || closed.get()) {
                return;
            }
            long now = ticker.read();
            if (now - vouchedUntil >= 0) {
                // The cache stopped vouching a while ago: what it took in meanwhile may have missed
                // invalidations. Empty it (if the watchdog has not yet) before vouching again.
                distrust(LinkCacheListener.DistrustReason.SILENT, true);
            }
            long until = sent + boundNanos;
            if (until - vouchedUntil > 0) {
                vouchedUntil = until;
            }
            vouching = now - vouchedUntil < 0;
        }
        firstHeartbeat.complete(null);
    }

    /**
     * Stops vouching at once and empties the near cache; tells the listener if the cache was
     * vouching. {@code stillSubscribed} false: the subscription is gone until Redis confirms a new one.
     */
    private void distrust(LinkCacheListener.DistrustReason reason, boolean stillSubscribed) {
        boolean wasVouching;
        synchronized (trust) {
            if (!stillSubscribed) {
                subscribed = false;
            }
            vouchedUntil = ticker.read();
            wasVouching = vouching;
            vouching = false;
            generation.incrementAndGet(); // before the flush: see cache()
            if (near != null) {
                near.invalidateAll();
            }
        }
        if (watcher != null) {
            watcher.mayHaveMissed();
        }
        if (wasVouching) {
            log.debug("link cache on {}: near cache emptied, {}", redis.description(), reason);
            listener.nearCacheDistrusted(reason);
        }
    }

    /**
     * Redis was seen to have lost data (e.g. this node's discovery record was gone: Redis restarted
     * empty or was flushed). Links lost that way publish no invalidation, so the near cache stops
     * vouching for what it holds: it is emptied, and vouches again from the next heartbeat; a
     * {@link LinkWatcher} is told that it may have missed changes. Any thread.
     */
    public void storeLostData() {
        if (pubSub != null && !closed.get()) {
            distrust(LinkCacheListener.DistrustReason.DATA_LOSS, true);
        }
    }

    /**
     * Every quarter bound: publishes a heartbeat, and empties the near cache once the last one
     * that arrived is older than the bound (the lookups already stopped trusting it by then: this
     * frees the memory and tells the listener).
     */
    private void heartbeat() {
        if (closed.get()) {
            return;
        }
        long now = ticker.read();
        boolean lapsed;
        synchronized (trust) {
            lapsed = vouching && now - vouchedUntil >= 0;
        }
        if (lapsed) {
            distrust(LinkCacheListener.DistrustReason.SILENT, true);
        }
        try {
            if (redis.isCluster()) {
                publishClusterHeartbeat(now);
            } else {
                redis.async().publish(heartbeatChannel, Long.toString(now)).exceptionally(this::heartbeatFailed);
            }
        } catch (RuntimeException e) {
            log.debug("link cache heartbeat not sent ({})", e.getMessage());
        }
    }

    /**
     * A round of heartbeats, one published on each master as the client sees the Cluster now.
     * Invalidations are published by scripts on the master of their slot and reach our
     * subscription over that master's bus link: a round proves that every such link delivers, in
     * order. A round that cannot complete (a master gone, a failover) lets the cache stop vouching.
     */
    private void publishClusterHeartbeat(long now) {
        rounds.keySet().removeIf(sent -> now - sent > boundNanos); // rounds that can no longer help
        var connection = ((RedisAdvancedClusterAsyncCommands<String, String>) redis.async()).getStatefulConnection();
        Set<String> masters = ConcurrentHashMap.newKeySet();
        for (RedisClusterNode node : connection.getPartitions()) {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.is(RedisClusterNode.NodeFlag.FAIL)) {
                masters.add(node.getNodeId());
            }
        }
        if (masters.isEmpty()) {
            return;
        }
        rounds.put(now, masters);
        for (String master : List.copyOf(masters)) {
            connection.getConnectionAsync(master)
                    .thenCompose(node -> node.async().publish(heartbeatChannel, master + ":" + now))
                    .exceptionally(this::heartbeatFailed);
        }
    }

    private Long heartbeatFailed(Throwable failure) {
        log.debug("link cache heartbeat failed ({}); the near cache stops vouching within {} ms",
                failure.getMessage(), boundNanos / 1_000_000);
        return 0L;
    }

    /**
     * Tells every instance that a node's links are gone (this one's own cache is already right;
     * instances without a cache ignore it). Relink and unlink publish from their scripts instead.
     */
    private void broadcast(String message) {
        redis.async().publish(CHANNEL, message).exceptionally(failure -> {
            log.debug("invalidation broadcast failed ({}); other near caches drop the node's links when discovery "
                    + "removes it (forgetNode), or within their TTL", failure.getMessage());
            return 0L;
        });
    }

    /**
     * The invalidation of a changed link: {@code tok:} token NUL service, then NUL and the new owner
     * unless the link was removed. (unlink-all.lua appends the service to the message for each link it
     * removes, so a removal's message ends with the service.)
     */
    private static String tokenMessage(String token, String service, String owner) {
        return TOKEN_PREFIX + nearKey(token, service) + (owner == null ? "" : SEPARATOR + owner);
    }

    /** The invalidation of a new link: {@code new:} the creating instance, ':', token NUL service NUL owner. */
    private String newLinkMessage(String token, String service, String owner) {
        return NEW_LINK_PREFIX + instance + ":" + nearKey(token, service) + SEPARATOR + owner;
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



    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && pubSub != null) {
            heartbeats.cancel(false);
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
        private Duration stalenessBound = DEFAULT_STALENESS_BOUND;
        private LinkCacheListener listener = LinkCacheListener.NONE;
        private LinkWatcher watcher;
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;

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

        /**
         * Longest a near-cache entry lives, however well the cache can vouch for it (it bounds the
         * memory of links nobody looks up); default 10 s. Staleness is bounded by
         * {@link #stalenessBound}, not by this.
         */
        public Builder nearCacheTtl(Duration ttl) {
            Objects.requireNonNull(ttl, "nearCacheTtl");
            if (ttl.isNegative() || ttl.isZero()) {
                throw new IllegalArgumentException("nearCacheTtl must be positive, was " + ttl);
            }
            this.nearCacheTtl = ttl;
            return this;
        }

        /**
         * The longest a near-cache answer may lag a change committed in Redis, whatever happens to
         * the invalidations (lost with a dropped connection, held by a silent one): the cache
         * answers from memory only while it has heard, within this bound, a heartbeat sent on its
         * own invalidation connection. 100 ms..1 min; default {@value #DEFAULT_STALENESS_BOUND_MILLIS}
         * ms. Each instance publishes four heartbeats per bound; a shorter bound costs more
         * PUBLISHes and, on a loaded machine, more moments of not vouching (lookups then read
         * Redis), never a stale answer.
         */
        public Builder stalenessBound(Duration bound) {
            Objects.requireNonNull(bound, "stalenessBound");
            if (bound.compareTo(MIN_STALENESS_BOUND) < 0 || bound.compareTo(MAX_STALENESS_BOUND) > 0) {
                throw new IllegalArgumentException("stalenessBound must be in " + MIN_STALENESS_BOUND.toMillis()
                        + " ms.." + MAX_STALENESS_BOUND.toMillis() + " ms, was " + bound.toMillis() + " ms");
            }
            this.stalenessBound = bound;
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

        /**
         * Hears every change of a link this cache learns of (see {@link LinkWatcher}); default none.
         * With a watcher the cache keeps its invalidation subscription (and its heartbeats) even
         * without a near cache.
         */
        public Builder watcher(LinkWatcher watcher) {
            this.watcher = Objects.requireNonNull(watcher, "watcher");
            return this;
        }

        /** Hears how lookups are answered and when tokens are relinked; default none. */
        public Builder listener(LinkCacheListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * The clock of the near cache's trust and TTL; default {@link Ticker#system()}. Heartbeats
         * carry their send time from it and are judged on arrival by it, so one ticker serves both.
         * Timers still fire on real time: a test moves the ticker to make the cache see time pass.
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Where the heartbeats (and the silence watchdog that runs with them) are scheduled; lent,
         * never shut down here: {@link RedisLinkCache#close()} cancels the task. It must run a task
         * about every quarter of the staleness bound, or the cache stops vouching. Default: the
         * event executors of the connector's Lettuce client.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * A cache with these settings, read once here: changing this builder later changes nothing
         * in it. Subscribes and waits (at most one staleness bound) for the first heartbeat.
         */
        public RedisLinkCache build() {
            return new RedisLinkCache(this);
        }
    }
}
