package io.braid.linkcache.internal;

import io.braid.api.Ticker;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.LinkCacheListener.DistrustReason;
import io.braid.redis.RedisConnector;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a near cache of links may vouch for what it holds: only while its invalidation subscription
 * is known to be delivering. The cache that owns this routes its pub/sub connection's events here
 * (disconnect, subscription confirmed, heartbeat received) and asks it, on each lookup, whether to
 * answer from memory ({@link #vouches()}) and, for each answer read from Redis, whether it may be
 * cached ({@link #stamp()} before the read, {@link #unchangedSince} around the put).
 * <ul>
 *   <li>Heartbeats: one PUBLISH on the instance's own heartbeat channel (received on the same
 *   pub/sub connection as the invalidations) every quarter of the staleness bound. Redis delivers a
 *   connection's messages in order, so a heartbeat sent at ticker reading t that came back proves
 *   every invalidation published before t was applied. The cache vouches until t + bound of the
 *   newest one. On a Cluster a round is one heartbeat through every master and counts only when all
 *   came back.</li>
 *   <li>Distrust: the near cache is emptied ({@code emptyNearCache}) when the connection drops, on
 *   every (re)subscription, when the heartbeats went silent past the bound, and when the store was
 *   seen to lose data; the listener hears the start of each such period once, and
 *   {@code afterDistrust} runs (a link watcher may have missed changes).</li>
 *   <li>Generation: grows with every invalidation ({@link #invalidating()}) and every flush; an
 *   answer read from Redis is cached only if it did not move from before the read to after the put.</li>
 * </ul>
 *
 * <p>Thread-safe. The trust's changes take one lock, never held across I/O; {@code emptyNearCache}
 * runs under it (it must be quick and do no I/O), {@code afterDistrust} and the listener outside.
 * {@link #close()} cancels the heartbeat task; a lent scheduler is never shut down here.
 */
final class NearCacheTrust implements AutoCloseable {
    /** Heartbeats per staleness bound: three may be late or lost before the cache stops vouching. */
    public static final int HEARTBEATS_PER_BOUND = 4;
    /** The stamp of a read that started while the cache could not vouch: its answer is never cached. */
    private static final long UNVOUCHED = -1;

    private static final Logger log = LoggerFactory.getLogger(NearCacheTrust.class);

    private final RedisConnector redis;
    private final String heartbeatChannel;
    private final long boundNanos;
    /** The clock of the trust: heartbeat send times, vouchedUntil, the watchdog. */
    private final Ticker ticker;
    private final LinkCacheListener listener;
    private final Runnable emptyNearCache;
    private final Runnable afterDistrust;
    private final AtomicBoolean closed = new AtomicBoolean();
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
    private final Object lock = new Object();
    /** Whether the cache is in a trusted period (for the listener: it hears each end once). Guarded by lock. */
    private boolean vouching;
    private final CompletableFuture<Void> firstHeartbeat = new CompletableFuture<>();
    /** On a Cluster: heartbeat rounds by send time, each with the masters whose heartbeat has not come back. */
    private final Map<Long, Set<String>> rounds = new ConcurrentHashMap<>();
    private volatile ScheduledFuture<?> heartbeats;

    /**
     * A trust that vouches for nothing until {@link #start} and a first heartbeat.
     *
     * @param heartbeatChannel this instance's own channel, subscribed on the invalidation connection
     * @param emptyNearCache empties the near cache; runs under the trust's lock: quick, no I/O
     * @param afterDistrust runs after each distrust, outside the lock (tell a watcher it may have missed changes)
     */
    public NearCacheTrust(RedisConnector redis, String heartbeatChannel, Duration stalenessBound, Ticker ticker,
                          LinkCacheListener listener, Runnable emptyNearCache, Runnable afterDistrust) {
        this.redis = redis;
        this.heartbeatChannel = heartbeatChannel;
        this.boundNanos = stalenessBound.toNanos();
        this.ticker = ticker;
        this.listener = listener;
        this.emptyNearCache = emptyNearCache;
        this.afterDistrust = afterDistrust;
        this.vouchedUntil = ticker.read();
    }

    /**
     * Sends the first heartbeat from the calling thread, then one every quarter bound on
     * {@code scheduler}. Call once the invalidation and heartbeat channels are subscribed.
     *
     * @throws java.util.concurrent.RejectedExecutionException when the scheduler is shut down
     */
    public void start(ScheduledExecutorService scheduler) {
        heartbeat();
        long interval = Math.max(1, boundNanos / HEARTBEATS_PER_BOUND);
        heartbeats = scheduler.scheduleAtFixedRate(this::heartbeat, interval, interval, TimeUnit.NANOSECONDS);
    }

    /** Waits at most one bound for the first heartbeat; answers whether it came. */
    public boolean awaitFirstHeartbeat() throws InterruptedException {
        try {
            firstHeartbeat.get(boundNanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e); // never completed exceptionally
        }
    }

    /** Whether the near cache may answer from memory now: a clock read and a volatile read, no I/O. */
    public boolean vouches() {
        return ticker.read() - vouchedUntil < 0;
    }

    /**
     * What a read must carry to have its answer cached: the generation when it started, or a value
     * {@link #unchangedSince} never accepts when the cache could not vouch for itself then
     * (unsubscribed, or no heartbeat within the bound).
     */
    public long stamp() {
        long stamp = generation.get();
        return subscribed && vouches() ? stamp : UNVOUCHED;
    }

    /** Whether no invalidation or flush came since {@code stamp} was taken (and the cache vouched then). */
    public boolean unchangedSince(long stamp) {
        return stamp != UNVOUCHED && generation.get() == stamp;
    }

    /** An invalidation is about to be applied: reads in flight must not cache their answers. Call before it. */
    public void invalidating() {
        generation.incrementAndGet();
    }

    /** The invalidation connection dropped (not by our own close): invalidations may be lost until it is back. */
    public void disconnected() {
        if (!closed.get()) {
            distrust(DistrustReason.DISCONNECTED, false);
        }
    }

    /**
     * Redis confirmed the subscription of the invalidation channel: the first time, or again
     * after a reconnection, in which case invalidations published in between were lost. Empties
     * the near cache; it vouches again from the next heartbeat.
     */
    public void subscribed() {
        synchronized (lock) {
            distrust(DistrustReason.RESUBSCRIBED, true);
            subscribed = true;
        }
    }

    /**
     * Redis was seen to have lost data (restarted empty, flushed): links lost that way publish no
     * invalidation, so the near cache is emptied and vouches again from the next heartbeat.
     */
    public void dataLost() {
        if (!closed.get()) {
            distrust(DistrustReason.DATA_LOSS, true);
        }
    }

    /**
     * One of our heartbeats arrived: everything published before it was sent has been applied. On
     * a Cluster a round is one heartbeat per master (each master's messages reach our subscription
     * in order over its own bus link), and it counts only once every master's has arrived.
     */
    public void heartbeatReceived(String message) {
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
        synchronized (lock) {
            if (!subscribed || closed.get()) {
                return;
            }
            long now = ticker.read();
            if (now - vouchedUntil >= 0) {
                // The cache stopped vouching a while ago: what it took in meanwhile may have missed
                // invalidations. Empty it (if the watchdog has not yet) before vouching again.
                distrust(DistrustReason.SILENT, true);
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
    private void distrust(DistrustReason reason, boolean stillSubscribed) {
        boolean wasVouching;
        synchronized (lock) {
            if (!stillSubscribed) {
                subscribed = false;
            }
            vouchedUntil = ticker.read();
            wasVouching = vouching;
            vouching = false;
            generation.incrementAndGet(); // before the flush: see unchangedSince()
            emptyNearCache.run();
        }
        afterDistrust.run();
        if (wasVouching) {
            log.debug("link cache on {}: near cache emptied, {}", redis.description(), reason);
            listener.nearCacheDistrusted(reason);
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
        synchronized (lock) {
            lapsed = vouching && now - vouchedUntil >= 0;
        }
        if (lapsed) {
            distrust(DistrustReason.SILENT, true);
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

    /** Stops the heartbeats; events after this change nothing. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && heartbeats != null) {
            heartbeats.cancel(false);
        }
    }
}
