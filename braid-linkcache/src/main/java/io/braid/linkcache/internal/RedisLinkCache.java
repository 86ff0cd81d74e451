package io.braid.linkcache.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.Ticker;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.LinkWatcher;
import io.braid.redis.internal.CommandQueue;
import io.braid.redis.RedisConnector;
import io.braid.redis.internal.RedisErrors;
import io.braid.redis.internal.RedisScript;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Links on Redis with a near cache in front: a warm lookup makes no Redis round trip.
 *
 * <p>Keys ({@link LinkKeys}): {@code braid:{ls:K}:b:J} a bucket HASH of the shard's links, each the
 * field {@code token\0service} valued {@code owner\0epoch} (one HGET reads both), small enough to
 * stay a listpack; {@code braid:{ls:K}:count} HASH node id to its links in the shard (behind
 * {@link #linkCountAsync}, kept exact by every script that adds, moves or removes a link); and
 * {@code braid:{ls:K}:epoch} the shard's epoch counter. K is the token's shard
 * ({@code (token.hashCode() & 0x7fffffff) % shards}), J its bucket (a hash of its own, modulo
 * {@code bucketsPerShard}); Java computes both, Lua never hashes a token. The keys of a change share
 * one hash tag, so every change is one script on one Cluster slot and they never drift apart; a
 * node's links are spread over the shards, which {@link #linkCountAsync} reads (one HMGET each) and
 * {@link #downAsync} scans bucket by bucket (it is rare: a node died).
 *
 * <p>Epochs: every change of owner (a new link, a relink to another node, a move) takes the
 * shard's next epoch, which is one more than the last and never less than the Redis server's clock
 * in microseconds times two. So a token's epochs grow across unlinks and links again (the counter
 * is the shard's, not the link's), and after Redis lost its data (restarted empty, flushed, a
 * failover that lost writes) they start again above every epoch handed out before, provided the
 * clock of the master handing them out did not go back past the last change before the loss. A
 * link without an epoch field (written by hand, or before epochs) reads as epoch 0. Every node of
 * a cluster must use the same number of shards: the epochs are counted per shard.
 *
 * <p>Near cache ({@link NearCache}): per service, a bounded map of token to its link (owner and
 * epoch) with a TTL; a hit allocates nothing. It
 * never replaces a link by one of a lower epoch, whether offered by a read or by an invalidation
 * that arrives late; two different owners under one epoch (only a data loss with a clock gone
 * back makes them) leave neither in the cache. Link (when it creates
 * a link: a cache may hold an owner that Redis lost), relink and unlink publish an invalidation on
 * the {@code braid:linkcache} channel from inside their script (so a change is never made
 * without its invalidation being sent), down publishes one after its scripts, and every instance
 * applies them at once. A near-cache answer is given only while the cache can vouch for it, that
 * is while its invalidation subscription is known to be delivering; {@link NearCacheTrust} decides
 * that (heartbeats on the same connection as the invalidations, a flush on every disconnect,
 * resubscription, silence or data loss, and a generation that keeps a read racing an invalidation
 * out of the cache). So a near-cache answer lags a change committed in Redis by at most the
 * {@linkplain Builder#stalenessBound staleness bound} (default
 * {@value #DEFAULT_STALENESS_BOUND_MILLIS} ms), whatever happened to the invalidations. While the
 * cache cannot vouch, lookups read Redis; if Redis cannot be reached either, they fail
 * {@link Code#UNAVAILABLE} (after the connector's command timeout) rather than answer from
 * memory. The heartbeat costs one PUBLISH per quarter bound per instance and no I/O per lookup.
 *
 * <p>Time and threads come from the {@link Builder}: every reading of the trust (heartbeat send
 * times, {@code vouchedUntil}, the silence watchdog) and the near cache's TTL come from one
 * {@link Builder#ticker ticker}, since a heartbeat carries its send time and is compared on arrival
 * with the same clock; heartbeats run on Lettuce's event executors unless a
 * {@link Builder#scheduler scheduler} is lent.
 *
 * <p>A burst queues, it does not time out: link changes and lookups that read Redis go through a
 * {@link CommandQueue}, so at most {@link CommandQueue#DEFAULT_MAX_IN_FLIGHT} of this cache's
 * commands are sent and unanswered at a time and the rest wait in the order called, where no
 * command timer runs (Lettuce starts a command's timeout when it sends it: thousands of claims sent
 * at once, a logic node's first pushes to players it never called, failed at their tail with
 * "Command timed out" while Redis answered the head). When a sent command finds Redis unreachable,
 * every waiting one fails {@link Code#UNAVAILABLE} at once. A near-cache hit sends nothing and
 * does not touch the queue. On a Cluster the bound is the cache's, over all masters.
 *
 * <p>Thread-safe; {@link #close()} fails the commands still waiting (UNAVAILABLE) and closes
 * neither the borrowed {@link RedisConnector} nor a lent scheduler (it cancels its heartbeat task
 * there).
 */
public final class RedisLinkCache implements LinkCache {
    static final String CHANNEL = "braid:linkcache";
    /** Default of {@link Builder#stalenessBound}, in milliseconds. */
    public static final long DEFAULT_STALENESS_BOUND_MILLIS = 1_000;
    /** Default of {@link Builder#stalenessBound}. */
    public static final Duration DEFAULT_STALENESS_BOUND = Duration.ofMillis(DEFAULT_STALENESS_BOUND_MILLIS);
    static final Duration MIN_STALENESS_BOUND = Duration.ofMillis(100);
    static final Duration MAX_STALENESS_BOUND = Duration.ofMinutes(1);
    private static final String HEARTBEAT_CHANNEL_PREFIX = CHANNEL + ":heartbeat:";
    private static final String NODE_PREFIX = "node:";
    private static final String TOKEN_PREFIX = "tok:";
    /**
     * A link made where Redis had none: {@code new:<instance>:<token>\0<service>\0<epoch>\0<owner>}.
     * The instance that made it skips it (its own answer is already in its cache).
     */
    private static final String NEW_LINK_PREFIX = "new:";
    private static final char SEPARATOR = LinkKeys.SEPARATOR;
    /** Most buckets one down script visits; a shard with more is done in several scripts (see downAsync). */
    static final int DOWN_BUCKETS_PER_SCRIPT = 256;

    private static final Logger log = LoggerFactory.getLogger(RedisLinkCache.class);
    /** What every link script starts with: the epoch field's name and the shard's epoch counter (epoch.lua). */
    private static final String EPOCHS = RedisScript.resource(RedisLinkCache.class, "epoch.lua").source();
    private static final RedisScript LINK = script("link.lua");
    private static final RedisScript RELINK = script("relink.lua");
    private static final RedisScript MOVE = script("move.lua");
    private static final RedisScript UNLINK_ALL = script("unlink-all.lua");
    private static final RedisScript UNLINK_IF = script("unlink-if.lua");
    private static final RedisScript DOWN = script("down.lua");

    private final RedisConnector redis;
    private final LinkKeys keys;
    /** Buckets one down script visits (a range of a shard's): bounds how long it blocks Redis. */
    private final int downBucketsPerScript;
    /** (token, service) to its link; never replaced by a link of a lower epoch. */
    private final NearCache near;
    /** The near cache's links share their owner's id (few owners, many tokens). */
    private final OwnerIds ownerIds = new OwnerIds();
    private final LinkCacheListener listener;
    private final LinkWatcher watcher;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** This instance's id in its heartbeat channel and its new-link messages. */
    private final String instance;
    /** When the near cache may answer from memory, and whether a read's answer may enter it. */
    private final NearCacheTrust trust;
    /**
     * Every command of a link change or a lookup that reads Redis goes through here: at most
     * {@link CommandQueue#DEFAULT_MAX_IN_FLIGHT} in flight, the rest of a burst waits in order.
     */
    private final CommandQueue queue = new CommandQueue("the link cache");

    private RedisLinkCache(Builder b) {
        this.redis = b.redis;
        this.keys = new LinkKeys(b.shards, b.bucketsPerShard);
        this.downBucketsPerScript = Math.min(b.bucketsPerShard, b.downBucketsPerScript);
        this.listener = b.listener;
        this.watcher = b.watcher;
        this.instance = Long.toHexString(ThreadLocalRandom.current().nextLong());
        this.near = b.nearCache ? new NearCache(b.nearCacheSize, b.nearCacheTtl, b.ticker, ownerIds) : null;
        String heartbeatChannel = HEARTBEAT_CHANNEL_PREFIX + instance;
        this.trust = new NearCacheTrust(redis, heartbeatChannel, b.stalenessBound, b.ticker, listener,
                this::emptyNearCache, this::mayHaveMissed);
        if (near == null && watcher == null) {
            pubSub = null;
            return;
        }
        pubSub = redis.newPubSub();
        pubSub.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                trust.disconnected(); // ignored once closed: our own close is no fault
            }
        });
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                if (channel.equals(heartbeatChannel)) {
                    trust.heartbeatReceived(message);
                } else {
                    onInvalidation(message);
                }
            }

            @Override
            public void subscribed(String channel, long count) {
                if (channel.equals(CHANNEL)) {
                    trust.subscribed();
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
        try {
            trust.start(b.scheduler != null ? b.scheduler : pubSub.getResources().eventExecutorGroup());
        } catch (RuntimeException e) { // a lent scheduler already shut down
            closed.set(true);
            trust.close();
            pubSub.closeAsync();
            throw e;
        }
        try {
            // Start vouching, so the first lookups are cached; a late heartbeat only delays that.
            if (!trust.awaitFirstHeartbeat()) {
                log.info("link cache on {}: no heartbeat within {} ms; lookups read Redis until one arrives",
                        redis.description(), b.stalenessBound.toMillis());
            }
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
        NearCache.Entry cached = nearHit(token, service);
        if (cached != null) { // allocates nothing: NearCacheAllocationTest
            return near.target(cached);
        }
        return read(token, service).thenApply(link -> link.map(Link::nodeId));
    }

    @Override
    public CompletableFuture<Optional<Link>> linkOfAsync(String token, String service) {
        String bad = LinkArguments.tokenAndService(token, service);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        NearCache.Entry cached = nearHit(token, service);
        return cached != null ? cached.linkOf() : read(token, service);
    }

    @Override
    public Link cachedLinkOf(String token, String service) {
        NearCache.Entry cached = token == null || service == null ? null : nearHit(token, service);
        return cached == null ? null : cached.link();
    }

    /** The near cache's link of (token, service) when it holds one and vouches for it now (the listener hears it), else null. */
    private NearCache.Entry nearHit(String token, String service) {
        if (near == null) {
            return null;
        }
        NearCache.Entry cached = near.get(token, service);
        if (cached == null || !trust.vouches()) {
            return null;
        }
        listener.lookup(service, LinkCacheListener.Outcome.NEAR_HIT);
        return cached;
    }

    /**
     * Reads the link from Redis (owner and epoch together: one HGET of its bucket field) and caches
     * it if the trust allows.
     */
    private CompletableFuture<Optional<Link>> read(String token, String service) {
        long stamp = trust.stamp();
        String bucket = keys.bucketKey(token);
        String field = LinkKeys.field(token, service);
        return queue.<String>run("cannot read the link of token " + token, () -> redis.async().hget(bucket, field))
                .handle((value, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot read the link of token " + token, failure);
                    }
                    if (value == null) {
                        listener.lookup(service, LinkCacheListener.Outcome.MISS);
                        return Optional.empty();
                    }
                    Link link = linkFrom(value, token, service);
                    cache(token, service, link, stamp);
                    listener.lookup(service, LinkCacheListener.Outcome.REDIS_HIT);
                    return Optional.of(link);
                });
    }

    @Override
    public CompletableFuture<Link> claimAsync(String token, Node candidate) {
        String bad = LinkArguments.tokenAndNode(token, candidate, "candidate");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        long stamp = trust.stamp();
        return queue.<List<Object>>run("cannot link token " + token, () -> redis.eval(LINK, ScriptOutputType.MULTI,
                        changeKeys(token), LinkKeys.field(token, candidate.service()), candidate.id(), CHANNEL,
                        newLinkMessage(token, candidate.service())))
                .handle((reply, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot link token " + token, failure);
                    }
                    Link link = linkFrom(reply, token, candidate.service());
                    // We skip our own new-link message: the answer enters the cache here, or an
                    // older entry it did not replace is dropped.
                    cacheOwnChange(token, candidate.service(), link, stamp);
                    return link;
                });
    }

    @Override
    public CompletableFuture<Link> lookUpOrLinkAsync(String token, Node candidate) {
        return claimAsync(token, candidate).thenApply(link -> {
            listener.lookup(candidate.service(), link.nodeId().equals(candidate.id())
                    ? LinkCacheListener.Outcome.MISS : LinkCacheListener.Outcome.REDIS_HIT);
            return link;
        });
    }

    @Override
    public CompletableFuture<Link> relinkAsync(String token, Node node) {
        String bad = LinkArguments.tokenAndNode(token, node, "node");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        long stamp = trust.stamp();
        return queue.<List<Object>>run("cannot relink token " + token, () -> redis.eval(RELINK, ScriptOutputType.MULTI,
                        changeKeys(token), LinkKeys.field(token, node.service()), node.id(), CHANNEL,
                        tokenMessage(token, node.service())))
                .handle((reply, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot relink token " + token, failure);
                    }
                    Link link = linkFrom(reply, token, node.service());
                    cacheOwnChange(token, node.service(), link, stamp);
                    listener.relinked(node.service());
                    return link;
                });
    }

    @Override
    public CompletableFuture<Optional<Link>> moveAsync(String token, Link expected, Node to) {
        String bad = LinkArguments.move(token, expected, to);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        long stamp = trust.stamp();
        return queue.<List<Object>>run("cannot move token " + token, () -> redis.eval(MOVE, ScriptOutputType.MULTI,
                        changeKeys(token), LinkKeys.field(token, to.service()), expected.nodeId(),
                        Long.toString(expected.epoch()), to.id(), CHANNEL, tokenMessage(token, to.service())))
                .handle((reply, failure) -> {
                    if (failure != null) {
                        throw RedisErrors.toBraid("cannot move token " + token, failure);
                    }
                    if (reply.isEmpty()) {
                        // The link is no longer the expected one: this cache must not answer it any more.
                        if (near != null) {
                            trust.invalidating();
                            near.removeLink(token, to.service(), expected);
                        }
                        return Optional.<Link>empty();
                    }
                    Link link = linkFrom(reply, token, to.service());
                    cacheOwnChange(token, to.service(), link, stamp);
                    if (!link.equals(expected)) {
                        listener.relinked(to.service());
                    }
                    return Optional.of(link);
                });
    }

    /** The link a script answered: {owner id, epoch}. */
    private Link linkFrom(List<Object> reply, String token, String service) {
        return new Link(ownerIds.canonical(String.valueOf(reply.get(0))), parseEpoch(String.valueOf(reply.get(1)), token, service));
    }

    /** The link a bucket field holds: owner NUL epoch (no NUL: an owner written by hand, epoch 0). */
    private Link linkFrom(String value, String token, String service) {
        int cut = value.indexOf(SEPARATOR);
        if (cut < 0) {
            return new Link(ownerIds.canonical(value), 0);
        }
        return new Link(ownerIds.canonical(value.substring(0, cut)), parseEpoch(value.substring(cut + 1), token, service));
    }

    private long parseEpoch(String epoch, String token, String service) {
        try {
            return Long.parseLong(epoch);
        } catch (NumberFormatException e) {
            throw new BraidException(Code.INTERNAL, "the epoch of token " + token + " in service " + service
                    + " is not a number in Redis: '" + epoch + "' (field " + token + "\\0" + service + " of "
                    + keys.bucketKey(token) + " written by something else than braid?)");
        }
    }

    @Override
    public CompletableFuture<Integer> unlinkAsync(String token) {
        String bad = LinkArguments.token(token);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return queue.<List<Object>>run("cannot unlink token " + token, () -> redis.eval(UNLINK_ALL,
                        ScriptOutputType.MULTI, new String[] {keys.bucketKey(token), keys.countKey(token)},
                        token + SEPARATOR, CHANNEL, TOKEN_PREFIX + token + SEPARATOR))
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
        return queue.<Long>run("cannot unlink token " + token, () -> redis.eval(UNLINK_IF, ScriptOutputType.INTEGER,
                        new String[] {keys.bucketKey(token), keys.countKey(token)},
                        LinkKeys.field(token, owner.service()), owner.id(), CHANNEL, tokenMessage(token, owner.service())))
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
        int buckets = keys.bucketsPerShard();
        List<CompletableFuture<Long>> perShard = new ArrayList<>();
        for (int shard = 0; shard < keys.shards(); shard++) {
            String prefix = LinkKeys.shardPrefix(shard);
            String[] count = {LinkKeys.countKey(shard)};
            for (int first = 0; first < buckets; first += downBucketsPerScript) {
                String from = Integer.toString(first);
                String to = Integer.toString(Math.min(buckets, first + downBucketsPerScript));
                perShard.add(queue.run("cannot remove the links of node " + node.id(), () -> redis.<Long>eval(DOWN,
                        ScriptOutputType.INTEGER, count, node.service(), node.id(), prefix, from, to)));
            }
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
        // HMGET of one field rather than HGET: a lookup is the only HGET a client sends (braid-runtime's
        // RedisStickyRoutingContract counts lookups by it), and a node may count its links meanwhile.
        List<CompletableFuture<List<KeyValue<String, String>>>> perShard = new ArrayList<>(keys.shards());
        for (int shard = 0; shard < keys.shards(); shard++) {
            String key = LinkKeys.countKey(shard);
            perShard.add(queue.run("cannot count the links of node " + nodeId, () -> redis.async().hmget(key, nodeId)));
        }
        return CompletableFuture.allOf(perShard.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> {
            if (failure != null) {
                throw RedisErrors.toBraid("cannot count the links of node " + nodeId, failure);
            }
            long sum = 0;
            for (CompletableFuture<List<KeyValue<String, String>>> shard : perShard) {
                KeyValue<String, String> count = shard.join().get(0);
                sum += count.hasValue() ? Long.parseLong(count.getValue()) : 0;
            }
            return sum;
        });
    }

    /** Drops this process's near-cache entries that point at {@code nodeId} (the node is gone). No I/O. */
    public void forgetNode(String nodeId) {
        if (near != null) {
            trust.invalidating();
            near.removeNode(nodeId);
        }
    }

    /**
     * Puts a link read from Redis in the near cache, unless an invalidation or a flush came since
     * the read started, and never over a newer link (a higher epoch). The generation is checked
     * again after the put: an invalidation that landed between the first check and the put (and so
     * removed nothing) moved it, and the put is undone; one that lands after the second check
     * removes the entry itself. Answers whether the link was put (or was there already) and kept.
     */
    private boolean cache(String token, String service, Link link, long stamp) {
        if (near == null || !trust.unchangedSince(stamp)) {
            return false;
        }
        NearCache.Entry entry = near.entry(link);
        NearCache.Entry held = near.merge(token, service, entry, RedisLinkCache::newer);
        if (!trust.unchangedSince(stamp)) {
            near.remove(token, service, entry);
            return false;
        }
        return held != null && link.equals(held.link());
    }

    /**
     * The answer of this instance's own change: cached as a read is, and when it cannot be (an
     * invalidation came meanwhile), an entry older than it is dropped rather than left in place;
     * one as new or newer stays.
     */
    private void cacheOwnChange(String token, String service, Link link, long stamp) {
        if (near != null && !cache(token, service, link, stamp)) {
            trust.invalidating(); // before the removal: see cache()
            near.computeIfPresent(token, service, held -> newer(held.link(), link) == held.link() ? held : null);
        }
    }

    /**
     * What the near cache keeps of two links of one (token, service): the one with the higher
     * epoch; on a tie the held one if both are the same link, else neither (null): two owners under
     * one epoch mean the store lost data in between (its clock went back), and the cache cannot
     * tell which is current.
     */
    private static Link newer(Link held, Link offered) {
        if (offered.epoch() != held.epoch()) {
            return offered.epoch() > held.epoch() ? offered : held;
        }
        return offered.nodeId().equals(held.nodeId()) ? held : null;
    }

    /** {@link #newer(Link, Link)} of a held entry and an offered link: the held entry, a new one, or null. */
    private NearCache.Entry keptOf(NearCache.Entry held, Link offered) {
        Link kept = newer(held.link(), offered);
        return kept == null ? null : kept == held.link() ? held : near.entry(kept);
    }

    /** {@link #newer(Link, Link)} of two near-cache entries: the entry whose link it keeps. */
    private static NearCache.Entry newer(NearCache.Entry held, NearCache.Entry offered) {
        Link kept = newer(held.link(), offered.link());
        return kept == null ? null : kept == held.link() ? held : offered;
    }

    private void invalidateLocally(String token, String service) {
        if (near != null) {
            trust.invalidating(); // before the removal: see cache()
            near.invalidate(token, service);
        }
    }

    /**
     * A link changed (by another instance, or by this one): bring what we cached for it up to date
     * (never back to an older epoch), tell the watcher.
     */
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
        // token NUL service NUL epoch [NUL owner]
        int first = change.indexOf(SEPARATOR);
        if (first < 0) {
            return;
        }
        int second = change.indexOf(SEPARATOR, first + 1);
        String key = second < 0 ? change : change.substring(0, second);
        String token = change.substring(0, first);
        String service = key.substring(first + 1);
        int third = second < 0 ? -1 : change.indexOf(SEPARATOR, second + 1);
        long epoch = second < 0 ? -1 : messageEpoch(third < 0 ? change.substring(second + 1)
                : change.substring(second + 1, third));
        if (epoch < 0) {
            // No epoch (a braid from before epochs): drop the entry, and let a watcher read the store again.
            invalidateLocally(token, service);
            if (watcher != null) {
                watcher.mayHaveMissed();
            }
            return;
        }
        Link link = third < 0 ? null : new Link(ownerIds.canonical(change.substring(third + 1)), epoch);
        if (near != null && !ours) {
            // Our own new link is already in the cache (see claimAsync): only others' changes touch entries.
            trust.invalidating();
            near.computeIfPresent(token, service, held -> link != null ? keptOf(held, link)
                    : held.link().epoch() > epoch ? held : null);
        }
        if (watcher != null) {
            watcher.changed(token, service, link == null ? null : link.nodeId(), epoch);
        }
    }

    /** The epoch in an invalidation, or -1 when it has none (a braid from before epochs). */
    private static long messageEpoch(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return -1;
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
            trust.dataLost();
        }
    }

    /** The trust stopped vouching (under its lock): nothing in the near cache may be answered any more. */
    private void emptyNearCache() {
        if (near != null) {
            near.invalidateAll();
        }
    }

    /** After each distrust: a watcher may have missed changes while the subscription could not vouch. */
    private void mayHaveMissed() {
        if (watcher != null) {
            watcher.mayHaveMissed();
        }
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
     * The invalidation of a changed link, up to its epoch: {@code tok:} token NUL service NUL. The
     * script appends the epoch, then NUL and the new owner unless the link was removed (whose
     * message carries the removed link's epoch). unlink-all.lua starts from {@code tok:} token NUL
     * and appends the service too.
     */
    private static String tokenMessage(String token, String service) {
        return TOKEN_PREFIX + linkName(token, service) + SEPARATOR;
    }

    /** The invalidation of a new link, up to its epoch: {@code new:} the creating instance, ':', token NUL service NUL. */
    private String newLinkMessage(String token, String service) {
        return NEW_LINK_PREFIX + instance + ":" + linkName(token, service) + SEPARATOR;
    }

    private static String nodeMessage(String nodeId) {
        return NODE_PREFIX + nodeId;
    }

    private static String linkName(String token, String service) {
        return token + SEPARATOR + service;
    }

    /** Where this cache keeps a token's links (the bucket key and the shard's other keys). */
    LinkKeys keys() {
        return keys;
    }

    /** The keys of a change of owner: the token's bucket, its shard's counts and epoch counter. */
    private String[] changeKeys(String token) {
        return new String[] {keys.bucketKey(token), keys.countKey(token), keys.epochKey(token)};
    }

    /** A link script: epoch.lua, then the script itself (one source, one SHA). */
    private static RedisScript script(String resource) {
        return new RedisScript(resource, EPOCHS + "\n" + RedisScript.resource(RedisLinkCache.class, resource).source());
    }



    /** Fails the commands still waiting in the queue (UNAVAILABLE), stops the invalidations and heartbeats. */
    @Override
    public void close() {
        queue.close();
        if (closed.compareAndSet(false, true) && pubSub != null) {
            trust.close();
            pubSub.close();
        }
    }

    /** Settings; each setter validates at once. */
    public static final class Builder {
        private final RedisConnector redis;
        private long nearCacheSize = 100_000;
        private Duration nearCacheTtl = Duration.ofSeconds(10);
        private boolean nearCache = true;
        private int shards = LinkKeys.DEFAULT_SHARDS;
        private int bucketsPerShard = LinkKeys.DEFAULT_BUCKETS_PER_SHARD;
        private int downBucketsPerScript = DOWN_BUCKETS_PER_SCRIPT;
        private Duration stalenessBound = DEFAULT_STALENESS_BOUND;
        private LinkCacheListener listener = LinkCacheListener.NONE;
        private LinkWatcher watcher;
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;

        private Builder(RedisConnector redis) {
            this.redis = Objects.requireNonNull(redis, "redis");
        }

        /** Most tokens the near cache holds per service (each service has its own bound); default 100,000. */
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
         * Shards of the links (each its own hash tag, so its own Cluster slot, epoch counter and
         * counts), 1..16384; default {@value LinkKeys#DEFAULT_SHARDS}. Every cluster node must use
         * the same number (and the player store too): it is part of the key layout.
         */
        public Builder shards(int shards) {
            String bad = LinkKeys.shards(shards);
            if (bad != null) {
                throw new IllegalArgumentException(bad);
            }
            this.shards = shards;
            return this;
        }

        /**
         * Bucket hashes per shard, 1..65536; default {@value LinkKeys#DEFAULT_BUCKETS_PER_SHARD}. A
         * bucket holds about links / (shards × bucketsPerShard) links and stays a compact listpack
         * while it holds at most Redis' {@code hash-max-listpack-entries} (128 by default) and every
         * field and value is at most {@code hash-max-listpack-value} bytes (64); past that it turns
         * into a hashtable, which costs about twice the memory per link (see the README). A node's
         * down visits every bucket. Every cluster node must use the same number (and the player
         * store too): it is part of the key layout.
         */
        public Builder bucketsPerShard(int buckets) {
            String bad = LinkKeys.bucketsPerShard(buckets);
            if (bad != null) {
                throw new IllegalArgumentException(bad);
            }
            this.bucketsPerShard = buckets;
            return this;
        }

        /** Most buckets one down script visits (tests: several scripts per shard); default {@value RedisLinkCache#DOWN_BUCKETS_PER_SCRIPT}. */
        Builder downBucketsPerScript(int buckets) {
            if (buckets < 1) {
                throw new IllegalArgumentException("downBucketsPerScript must be at least 1, was " + buckets);
            }
            this.downBucketsPerScript = buckets;
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
