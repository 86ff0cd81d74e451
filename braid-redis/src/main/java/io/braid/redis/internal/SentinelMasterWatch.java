package io.braid.redis.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Which node is the master of a Sentinel-managed Redis now, and whether a failover of it is under
 * way, so that every connection of a {@link io.braid.redis.RedisConnector} talks to the master the Sentinels
 * chose and to no other.
 *
 * <p>Why: Lettuce asks the Sentinels for the master only when a connection (re)connects. After a
 * {@code SENTINEL FAILOVER} the old master keeps running and keeps its clients until the Sentinels
 * demote it, which takes them 10–20 s; meanwhile those clients write to a node whose writes the
 * demotion throws away, while clients that connected later write to the new master (measured with
 * braid-testkit's {@code RedisSentinel}: links and node records lost, tokens served by two nodes).
 *
 * <p>How: on every Sentinel, a pub/sub connection listens for the failover's events, and a command
 * connection is asked every {@link #POLL_INTERVAL} for {@code SENTINEL MASTER}; the answer with the
 * highest {@code config-epoch} wins (a Sentinel that has not heard of a failover yet cannot pull the
 * connections back). When a failover starts ({@code +try-failover}, {@code +selected-slave}, or a
 * poll that shows {@code failover_in_progress}), the watch <em>fences</em>: it drops every
 * connection ({@code onChange}) and refuses to hand out an address until the Sentinels announce the
 * new master ({@code +switch-master}) or a later poll shows the failover over; then it drops every
 * connection again, and they reconnect to the new master. Writes the old master acknowledged after
 * the replica was promoted but before the fence are still lost: Sentinel fences nothing on the
 * server side. The fence starts when the Sentinel leading the failover picks the replica, one of its
 * ticks (about 100 ms) before it promotes it, so on a healthy network that window is empty.
 */
public final class SentinelMasterWatch implements AutoCloseable {
    static final Duration POLL_INTERVAL = Duration.ofMillis(250);
    private static final Logger log = LoggerFactory.getLogger(SentinelMasterWatch.class);
    private static final String SWITCH_MASTER = "+switch-master";
    private static final List<String> FAILOVER_STARTS = List.of("+try-failover", "+selected-slave",
            "+failover-state-send-slaveof-noone");

    /** One Sentinel: where it is, and the connections the watch keeps to it (made again when lost). */
    private static final class Sentinel {
        final RedisURI uri;
        CompletableFuture<StatefulRedisSentinelConnection<String, String>> commands;
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> events;

        Sentinel(RedisURI uri) {
            this.uri = uri;
        }
    }

    private final String masterName;
    private final Duration timeout;
    private final Runnable onChange;
    private final RedisClient client;
    private final List<Sentinel> sentinels = new ArrayList<>();
    private final ScheduledExecutorService poller;
    private final Object lock = new Object();

    private volatile InetSocketAddress master;
    private volatile long masterEpoch = -1;
    /** When the fence began ({@link System#nanoTime()}), or 0 while there is none. */
    private volatile long fencedSince;
    /** Completed when the fence is lifted; reconnects wait for it. Null while there is no fence. */
    private volatile CompletableFuture<Void> fenceLifted;
    private volatile boolean closed;
    /** How many times a fence began or the master moved; see {@link #changes()}. */
    private final AtomicLong changes = new AtomicLong();

    /**
     * Finds the master through the Sentinels of {@code uri} and starts watching them.
     *
     * @throws RedisConnectionException if no Sentinel names a master within {@code timeout}
     */
    public SentinelMasterWatch(RedisURI uri, ClientResources resources, Duration timeout, Runnable onChange) {
        this.masterName = uri.getSentinelMasterId();
        this.timeout = timeout;
        this.onChange = onChange;
        this.client = RedisClient.create(resources);
        // Fail fast while a Sentinel is unreachable: polls must not queue up behind a dead one.
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build());
        for (RedisURI sentinel : uri.getSentinels()) {
            RedisURI copy = RedisURI.builder(sentinel).withTimeout(timeout).build();
            sentinels.add(new Sentinel(copy));
        }
        this.poller = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("braid-redis-sentinel-" + masterName).daemon().factory());
        try {
            poll();
            if (master == null) {
                throw new RedisConnectionException("no Sentinel of " + uri + " names a master for " + masterName);
            }
            poller.scheduleWithFixedDelay(this::pollQuietly, POLL_INTERVAL.toNanos(), POLL_INTERVAL.toNanos(),
                    TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Grows each time a fence begins or the master moves: a connection made while it changed may
     * have reached the old master, and its maker drops it.
     */
    public long changes() {
        return changes.get();
    }

    /**
     * The master's address for a (re)connection. While a failover is under way the answer waits
     * until the new master is known: an error would not do, since Lettuce then reconnects to the
     * address it used last, the old master.
     */
    public Mono<SocketAddress> address() {
        CompletableFuture<Void> fence = fenceLifted;
        if (fence != null) {
            return Mono.fromFuture(fence).then(Mono.defer(this::address));
        }
        InetSocketAddress current = master;
        return current == null
                ? Mono.error(new RedisConnectionException("no Sentinel names a master for " + masterName))
                : Mono.just(current);
    }

    // ---- events ----------------------------------------------------------------------------------

    private void onEvent(String channel, String message) {
        String[] parts = message.split(" ");
        if (SWITCH_MASTER.equals(channel)) {
            // <master-name> <old-ip> <old-port> <new-ip> <new-port>
            if (parts.length == 5 && masterName.equals(parts[0])) {
                // The switch comes with a new config epoch, at least one above the one we know: answers
                // of Sentinels that have not heard of it yet cannot pull the connections back.
                switchTo(InetSocketAddress.createUnresolved(parts[3], Integer.parseInt(parts[4])), masterEpoch + 1,
                        "+switch-master");
            }
        } else if (FAILOVER_STARTS.contains(channel) && names(parts)) {
            fence(channel);
        }
    }

    /** Whether an instance event ({@code <type> <name> <ip> <port> [@ <master-name> <ip> <port>]}) is about our master. */
    private boolean names(String[] parts) {
        if (parts.length >= 8 && "@".equals(parts[4])) {
            return masterName.equals(parts[5]);
        }
        return parts.length >= 2 && "master".equals(parts[0]) && masterName.equals(parts[1]);
    }

    private void fence(String why) {
        boolean dropped;
        synchronized (lock) {
            dropped = fencedSince == 0 && !closed;
            if (dropped) {
                fenceLifted = new CompletableFuture<>();
                fencedSince = Math.max(1, System.nanoTime());
                changes.incrementAndGet();
            }
        }
        if (dropped && !closed) {
            log.warn("Redis Sentinel fails over master {} ({}): dropping every connection to {} until the new master "
                    + "is announced", masterName, why, master);
            onChange.run();
        }
    }

    private void switchTo(InetSocketAddress next, long epoch, String why) {
        boolean moved;
        CompletableFuture<Void> fence;
        InetSocketAddress previous;
        synchronized (lock) {
            previous = master;
            moved = previous == null || !sameAddress(previous, next);
            if (moved) {
                changes.incrementAndGet();
            }
            fence = fenceLifted;
            master = next;
            masterEpoch = Math.max(masterEpoch, epoch);
            fencedSince = 0;
            fenceLifted = null;
        }
        if (moved && previous != null && !closed) {
            log.warn("Redis Sentinel names {} the master of {} ({}); reconnecting every connection", next, masterName, why);
            onChange.run(); // connections that reached the old master reconnect to the new one
        }
        if (fence != null) {
            fence.complete(null); // reconnects held by the fence go on, to the new master
        }
    }

    private static boolean sameAddress(InetSocketAddress a, InetSocketAddress b) {
        return a.getHostString().equals(b.getHostString()) && a.getPort() == b.getPort();
    }

    // ---- polling ---------------------------------------------------------------------------------

    private void pollQuietly() {
        try {
            poll();
        } catch (RuntimeException e) {
            log.debug("polling the Sentinels of {} failed", masterName, e);
        }
    }

    /** Asks every Sentinel it can reach; the answer with the highest config epoch names the master. */
    private void poll() {
        long started = System.nanoTime();
        List<CompletableFuture<Map<String, String>>> answers = new ArrayList<>();
        for (Sentinel sentinel : sentinels) {
            answers.add(ask(sentinel));
        }
        long best = -1;
        InetSocketAddress chosen = null;
        boolean failingOver = false;
        int answered = 0;
        for (CompletableFuture<Map<String, String>> answer : answers) {
            Map<String, String> fields;
            try {
                fields = answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                continue; // that Sentinel is down or slow: the others decide
            }
            if (fields == null || fields.get("ip") == null || fields.get("port") == null) {
                continue;
            }
            answered++;
            String flags = fields.getOrDefault("flags", "");
            failingOver |= flags.contains("failover_in_progress");
            long epoch = parseLong(fields.get("config-epoch"));
            if (epoch > best) {
                best = epoch;
                chosen = InetSocketAddress.createUnresolved(fields.get("ip"), Integer.parseInt(fields.get("port")));
            }
        }
        if (answered == 0 || closed) {
            return;
        }
        if (failingOver) {
            fence("a Sentinel reports failover_in_progress");
            return;
        }
        if (best < masterEpoch) {
            return; // every Sentinel that answered is behind what we know
        }
        long fence = fencedSince;
        InetSocketAddress current = master;
        // A fence is lifted only by a poll sent after it began: an older answer knows nothing of that failover.
        if (current == null || !sameAddress(current, chosen) || (fence != 0 && started - fence > 0)) {
            switchTo(chosen, best, "config epoch " + best);
        } else {
            synchronized (lock) {
                masterEpoch = Math.max(masterEpoch, best);
            }
        }
    }

    private CompletableFuture<Map<String, String>> ask(Sentinel sentinel) {
        synchronized (lock) {
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("closed"));
            }
            if (sentinel.commands == null || sentinel.commands.isCompletedExceptionally()) {
                sentinel.commands = client.connectSentinelAsync(StringCodec.UTF8, sentinel.uri);
            }
            if (sentinel.events == null || sentinel.events.isCompletedExceptionally()) {
                sentinel.events = subscribe(sentinel.uri);
            }
            return sentinel.commands.thenCompose(connection -> connection.async().master(masterName).toCompletableFuture());
        }
    }

    private CompletableFuture<StatefulRedisPubSubConnection<String, String>> subscribe(RedisURI uri) {
        return client.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture().thenCompose(connection -> {
            connection.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    onEvent(channel, message);
                }
            });
            List<String> channels = new ArrayList<>(FAILOVER_STARTS);
            channels.add(SWITCH_MASTER);
            return connection.async().subscribe(channels.toArray(String[]::new)).toCompletableFuture()
                    .thenApply(ignored -> connection);
        });
    }

    private static long parseLong(String text) {
        try {
            return text == null ? 0 : Long.parseLong(text);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Stops polling and closes the connections to the Sentinels; the caller owns the client resources. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        CompletableFuture<Void> fence = fenceLifted;
        if (fence != null) {
            fence.completeExceptionally(new RedisConnectionException("the watch of master " + masterName + " is closed"));
        }
        poller.shutdownNow();
        try {
            poller.awaitTermination(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2)); // closes every Sentinel connection it made
    }
}
