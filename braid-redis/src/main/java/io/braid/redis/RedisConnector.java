package io.braid.redis;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.redis.internal.RedisErrors;
import io.braid.redis.internal.RedisScript;
import io.braid.redis.internal.SentinelMasterWatch;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.CommandListenerWriter;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisChannelWriter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.protocol.CommandExpiryWriter;
import io.lettuce.core.protocol.DefaultEndpoint;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.netty.channel.EventLoopGroup;
import io.lettuce.core.resource.Delay;
import java.net.SocketAddress;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import reactor.core.publisher.Mono;

/**
 * One Redis deployment (a standalone server, Sentinel-managed, or a Cluster) and the connections
 * braid's modules share on it: one multiplexed command connection, and pub/sub or binary
 * connections on request. Whoever creates a connector closes it, which closes every connection it
 * made; the modules it is lent to never do.
 *
 * <p>Commands fail fast while Redis is unreachable (no unbounded buffering): the caller sees the
 * failure and retries on its own schedule; the connections reconnect by themselves. Thread-safe.
 *
 * <p>Sentinel ({@code redis-sentinel://host:port,host:port,...#master}): every connection goes to
 * the master the Sentinels chose and follows it across a failover. From the moment a failover
 * starts until the Sentinels announce the new master, every connection is dropped and commands fail
 * fast, so nothing is written to a master that is about to be demoted (and lose what it took).
 */
public final class RedisConnector implements AutoCloseable {
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);
    /** The longest pause between two attempts to reconnect a lost connection. */
    static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);
    private static final io.lettuce.core.codec.RedisCodec<String, byte[]> BINARY =
            io.lettuce.core.codec.RedisCodec.of(io.lettuce.core.codec.StringCodec.UTF8,
                    io.lettuce.core.codec.ByteArrayCodec.INSTANCE);

    private final String description;
    private final boolean cluster;
    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final StatefulConnection<String, String> connection;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Sentinel only: follows the master; null otherwise. */
    private final SentinelMasterWatch sentinelWatch;
    /** Sentinel only: every connection made here, dropped when the master changes; null otherwise. */
    private final Set<StatefulConnection<?, ?>> sentinelConnections;
    /** Made on first use of {@link #evalReplicated}: its WAIT must never stall the shared connection. */
    private StatefulConnection<String, String> replicatedConnection;

    private RedisConnector(String description, boolean cluster, ClientResources resources, AbstractRedisClient client,
                           StatefulConnection<String, String> connection, RedisClusterAsyncCommands<String, String> commands) {
        this(description, cluster, resources, client, connection, commands, null, null);
    }

    private RedisConnector(String description, boolean cluster, ClientResources resources, AbstractRedisClient client,
                           StatefulConnection<String, String> connection, RedisClusterAsyncCommands<String, String> commands,
                           SentinelMasterWatch sentinelWatch, Set<StatefulConnection<?, ?>> sentinelConnections) {
        this.sentinelWatch = sentinelWatch;
        this.sentinelConnections = sentinelConnections;
        this.description = description;
        this.cluster = cluster;
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.commands = commands;
    }

    /** Connects to a standalone or Sentinel deployment: {@code redis://}, {@code rediss://}, {@code redis-sentinel://}. */
    public static RedisConnector connect(String uri) {
        return connect(uri, DEFAULT_COMMAND_TIMEOUT);
    }

    public static RedisConnector connect(String uri, Duration commandTimeout) {
        return connect(uri, commandTimeout, null);
    }

    /**
     * As {@link #connect(String, Duration)}, over TLS with these settings ({@code rediss://} only;
     * null: {@code rediss://} trusts what the JVM trusts).
     *
     * @throws IllegalArgumentException if {@code tls} is given for a URI that is not {@code rediss://}
     * @throws BraidException UNAVAILABLE when Redis cannot be reached; a failed TLS handshake says so
     */
    public static RedisConnector connect(String uri, Duration commandTimeout, RedisTls tls) {
        return connect(uri, commandTimeout, tls, null);
    }

    /**
     * As {@link #connect(String, Duration, RedisTls)}, with Redis I/O on {@code eventLoops}: the event
     * loops of the node this connector serves, so the node runs no Redis I/O threads of its own. The
     * loops are borrowed: {@link #close()} leaves them running. Null, or a group of another transport
     * than Lettuce's (NIO where Lettuce uses epoll): the connector makes its own, as without it.
     */
    public static RedisConnector connect(String uri, Duration commandTimeout, RedisTls tls, EventLoopGroup eventLoops) {
        RedisURI redisUri = parse(uri, commandTimeout);
        requireTlsUri(redisUri, tls);
        ClientResources resources = newResources(eventLoops);
        if (!redisUri.getSentinels().isEmpty()) {
            return connectSentinel(redisUri, commandTimeout, tls, resources);
        }
        RedisClient client = RedisClient.create(resources, redisUri);
        client.setOptions(standaloneOptions(commandTimeout, tls));
        try {
            StatefulRedisConnection<String, String> connection = client.connect();
            return new RedisConnector(redactedUri(redisUri), false, resources, client, connection, connection.async());
        } catch (RuntimeException e) {
            shutdown(client, resources);
            throw cannotConnect("at " + redactedUri(redisUri), redisUri.isSsl(), e);
        }
    }

    private static ClientOptions standaloneOptions(Duration commandTimeout, RedisTls tls) {
        ClientOptions.Builder options = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .socketOptions(socketOptions(commandTimeout));
        if (tls != null) {
            options.sslOptions(tls.sslOptions());
        }
        return options.build();
    }

    /**
     * A Sentinel-managed Redis: every connection asks a {@link SentinelMasterWatch} for the master's
     * address, on first connect and on every reconnect, and is dropped (so it reconnects) when the
     * Sentinels start a failover and again when they announce the new master. Lettuce alone asks the
     * Sentinels only when a connection happens to reconnect, which leaves connections on an old
     * master that still runs after a {@code SENTINEL FAILOVER} for the 10-20 s until the Sentinels
     * demote it; everything written there meanwhile is lost.
     */
    private static RedisConnector connectSentinel(RedisURI redisUri, Duration commandTimeout, RedisTls tls,
                                                  ClientResources resources) {
        Set<StatefulConnection<?, ?>> connections = ConcurrentHashMap.newKeySet();
        SentinelMasterWatch watch;
        try {
            watch = new SentinelMasterWatch(redisUri, resources, commandTimeout, () -> dropAll(connections));
        } catch (RuntimeException e) {
            resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
            throw cannotConnect("through the Sentinels of " + redactedUri(redisUri), redisUri.isSsl(), e);
        }
        SentinelFollowingClient client = new SentinelFollowingClient(resources, redisUri, watch);
        client.setOptions(standaloneOptions(commandTimeout, tls));
        try {
            StatefulRedisConnection<String, String> connection = client.connect();
            connections.add(connection);
            return new RedisConnector(redactedUri(redisUri), false, resources, client, connection, connection.async(),
                    watch, connections);
        } catch (RuntimeException e) {
            watch.close();
            shutdown(client, resources);
            throw cannotConnect("at " + redactedUri(redisUri), redisUri.isSsl(), e);
        }
    }

    /** A client whose connections to a Sentinel-managed master go where the watch says, connect and reconnect alike. */
    private static final class SentinelFollowingClient extends RedisClient {
        private final SentinelMasterWatch watch;

        SentinelFollowingClient(ClientResources resources, RedisURI uri, SentinelMasterWatch watch) {
            super(resources, uri);
            this.watch = watch;
        }

        @Override
        protected Mono<SocketAddress> getSocketAddress(RedisURI uri) {
            // Deferred: a reconnect subscribes again and must get the master of that moment.
            return uri.getSentinels().isEmpty() ? super.getSocketAddress(uri) : Mono.defer(watch::address);
        }
    }

    /**
     * Drops the network connection under each of {@code connections} (closed ones are forgotten);
     * Lettuce's reconnect then asks for the master's address again. Commands in flight fail, as on
     * any disconnect.
     */
    private static void dropAll(Set<StatefulConnection<?, ?>> connections) {
        connections.removeIf(connection -> !connection.isOpen());
        for (StatefulConnection<?, ?> connection : connections) {
            drop(connection);
        }
    }

    /** Drops the network connection under {@code connection}; see {@link #dropAll}. */
    private static void drop(StatefulConnection<?, ?> connection) {
        if (connection instanceof RedisChannelHandler<?, ?> handler) {
            RedisChannelWriter writer = handler.getChannelWriter();
            while (true) { // the endpoint sits under the timeout and listener decorators
                if (writer instanceof CommandExpiryWriter expiry) {
                    writer = expiry.getDelegate();
                } else if (writer instanceof CommandListenerWriter listener) {
                    writer = listener.getDelegate();
                } else {
                    break;
                }
            }
            if (writer instanceof DefaultEndpoint endpoint) {
                endpoint.disconnect(); // not close(): the connection watchdog reconnects it
            }
        }
    }

    /**
     * Sentinel only: remembers {@code connection}, made by {@code connect}, so that a change of master
     * drops it too; one made while the master changed is dropped at once (it may have reached the old one).
     */
    private <C extends StatefulConnection<?, ?>> C connectTracked(Supplier<C> connect) {
        if (sentinelConnections == null) {
            return connect.get();
        }
        long before = sentinelWatch.changes();
        C connection = connect.get();
        sentinelConnections.removeIf(known -> !known.isOpen());
        sentinelConnections.add(connection);
        if (sentinelWatch.changes() != before) {
            drop(connection);
        }
        return connection;
    }

    /** Connects to a Redis Cluster through any of its nodes ({@code redis://host:port}, ...). */
    public static RedisConnector connectCluster(List<String> seedUris) {
        return connectCluster(seedUris, DEFAULT_COMMAND_TIMEOUT);
    }

    public static RedisConnector connectCluster(List<String> seedUris, Duration commandTimeout) {
        return connectCluster(seedUris, commandTimeout, null);
    }

    /**
     * As {@link #connectCluster(List, Duration)}, over TLS with these settings (every seed
     * {@code rediss://}; null: {@code rediss://} trusts what the JVM trusts).
     *
     * @throws IllegalArgumentException if {@code tls} is given and a seed is not {@code rediss://}
     */
    public static RedisConnector connectCluster(List<String> seedUris, Duration commandTimeout, RedisTls tls) {
        return connectCluster(seedUris, commandTimeout, tls, null);
    }

    /**
     * As {@link #connectCluster(List, Duration, RedisTls)}, with Redis I/O on the node's {@code eventLoops}
     * (borrowed, as in {@link #connect(String, Duration, RedisTls, EventLoopGroup)}).
     */
    public static RedisConnector connectCluster(List<String> seedUris, Duration commandTimeout, RedisTls tls,
                                                EventLoopGroup eventLoops) {
        if (seedUris == null || seedUris.isEmpty()) {
            throw new IllegalArgumentException("a Redis Cluster needs at least one seed URI");
        }
        List<RedisURI> seeds = new ArrayList<>();
        for (String uri : seedUris) {
            RedisURI seed = parse(uri, commandTimeout);
            requireTlsUri(seed, tls);
            seeds.add(seed);
        }
        ClientResources resources = newResources(eventLoops);
        RedisClusterClient client = RedisClusterClient.create(resources, seeds);
        ClusterClientOptions.Builder options = ClusterClientOptions.builder();
        if (tls != null) {
            options.sslOptions(tls.sslOptions());
        }
        client.setOptions(options
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .socketOptions(socketOptions(commandTimeout))
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        .enableAllAdaptiveRefreshTriggers()
                        .enablePeriodicRefresh(Duration.ofSeconds(10))
                        .build())
                .build());
        String description = "cluster " + seeds.stream().map(RedisConnector::redactedUri).toList();
        try {
            StatefulRedisClusterConnection<String, String> connection = client.connect();
            return new RedisConnector(description, true, resources, client, connection, connection.async());
        } catch (RuntimeException e) {
            shutdown(client, resources);
            throw cannotConnect(description, seeds.get(0).isSsl(), e);
        }
    }

    private static void requireTlsUri(RedisURI uri, RedisTls tls) {
        if (tls != null && !uri.isSsl()) {
            throw new IllegalArgumentException("TLS settings (" + tls + ") need a rediss:// URI, was " + redactedUri(uri));
        }
    }

    /**
     * UNAVAILABLE, naming the address, and what went wrong: a failed TLS handshake is called one,
     * with the likely reasons, because Lettuce's own message ("Unable to connect") hides it.
     */
    private static BraidException cannotConnect(String where, boolean tls, RuntimeException e) {
        StringBuilder message = new StringBuilder("cannot connect to Redis ").append(where).append(": ")
                .append(e.getMessage());
        SSLException handshake = cause(e, SSLException.class);
        if (handshake != null) {
            message.append("; TLS handshake failed (").append(handshake.getMessage()).append(")");
            if (cause(e, CertificateException.class) != null || cause(e, CertPathValidatorException.class) != null
                    || cause(e, CertPathBuilderException.class) != null) {
                message.append(": the server's certificate is not signed by an authority this client trusts, or does "
                        + "not name the host; give its CA with RedisTls.trusting(caPem)");
            } else if (tls) {
                message.append(": does the server speak TLS on this port? a plain port needs redis://");
            }
        } else if (tls && cause(e, io.lettuce.core.RedisCommandTimeoutException.class) != null) {
            message.append("; no answer to the TLS handshake: does the server speak TLS on this port? "
                    + "a plain port needs redis://");
        } else if (!tls && cause(e, java.io.IOException.class) != null) {
            message.append(" (a server that speaks TLS only closes plain connections: use rediss://)");
        }
        return new BraidException(Code.UNAVAILABLE, message.toString(), e);
    }

    private static <T extends Throwable> T cause(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static RedisURI parse(String uri, Duration commandTimeout) {
        Objects.requireNonNull(uri, "redis uri");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        if (commandTimeout.isNegative() || commandTimeout.isZero()) {
            throw new IllegalArgumentException("commandTimeout must be positive, was " + commandTimeout);
        }
        RedisURI parsed;
        try {
            parsed = RedisURI.create(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a Redis URI (redis://host:port, rediss://, redis-sentinel://): " + uri, e);
        }
        parsed.setTimeout(commandTimeout);
        return parsed;
    }

    private static SocketOptions socketOptions(Duration commandTimeout) {
        return SocketOptions.builder().connectTimeout(commandTimeout).keepAlive(true).build();
    }

    private static ClientResources newResources(EventLoopGroup eventLoops) {
        // Lettuce records every command's latency by default (HdrHistogram per command type) when
        // HdrHistogram is on the classpath, as it is next to Micrometer: ~2% of a pub-sub
        // benchmark's samples for figures nobody reads. braid's own meters time what matters.
        // Reconnects back off exponentially up to 1 s (Lettuce's default: 30 s), so a connection is back
        // within a second of Redis (or a promoted replica) answering again.
        DefaultClientResources.Builder resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ZERO, MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS))
                .commandLatencyRecorder(io.lettuce.core.metrics.CommandLatencyRecorder.disabled());
        if (eventLoops != null && BorrowedEventLoops.fits(eventLoops)) {
            // The node's loops carry Redis I/O and Lettuce's own small tasks (reconnects, events);
            // both are borrowed, so shutting these resources down leaves them to the node.
            return resources.eventLoopGroupProvider(new BorrowedEventLoops(eventLoops)).eventExecutorGroup(eventLoops)
                    .build();
        }
        return resources.ioThreadPoolSize(2).computationThreadPoolSize(2).build();
    }

    private static String redactedUri(RedisURI uri) {
        return uri.toString(); // RedisURI.toString never prints the password
    }

    /** The shared command connection. Routing by key slot is automatic on a Cluster. */
    public RedisClusterAsyncCommands<String, String> async() {
        return commands;
    }

    /**
     * A new connection whose values are raw bytes (keys stay strings), for message bodies. The
     * caller may use it for blocking commands (XREADGROUP BLOCK) that would stall the shared
     * connection; this connector closes it on {@link #close()} if the caller has not.
     */
    public StatefulConnection<String, byte[]> newBinaryConnection() {
        return connectTracked(() -> cluster
                ? ((RedisClusterClient) client).connect(BINARY)
                : ((RedisClient) client).connect(BINARY));
    }

    /** The async commands of a connection made by {@link #newBinaryConnection()}. */
    public static RedisClusterAsyncCommands<String, byte[]> binaryCommands(StatefulConnection<String, byte[]> connection) {
        if (connection instanceof StatefulRedisClusterConnection<String, byte[]> clustered) {
            return clustered.async();
        }
        return ((StatefulRedisConnection<String, byte[]>) connection).async();
    }

    /** Whether this is a Redis Cluster. */
    public boolean isCluster() {
        return cluster;
    }

    /** A new pub/sub connection, closed by this connector's {@link #close()} (or earlier by the caller). */
    public StatefulRedisPubSubConnection<String, String> newPubSub() {
        return connectTracked(() -> cluster
                ? ((RedisClusterClient) client).connectPubSub()
                : ((RedisClient) client).connectPubSub());
    }

    /**
     * Runs a script by its SHA-1, sending its source once if Redis does not know it. The future
     * fails with the Redis error; {@link RedisErrors} tells what it was.
     */
    public <T> CompletableFuture<T> eval(RedisScript script, ScriptOutputType type, String[] keys, String... args) {
        return eval(commands, script, type, keys, args);
    }

    /**
     * What {@link #evalReplicated} learned: the script's reply, how many replicas the node that ran
     * it had connected (from {@code ROLE}), and how many of them confirmed its writes
     * ({@code WAIT}; 0 when none was asked for).
     */
    public record Replicated<T>(T reply, int connectedReplicas, long acknowledged) {
    }

    /**
     * Runs a script on the node that serves {@code keys[0]} (the server, when standalone), then asks
     * how many replicas that node has connected, and when it has any, waits with {@code WAIT} until
     * {@code min(replicas, connected)} of them have the script's writes, or {@code timeout} passes.
     * A caller that acts on a write only once a failover cannot lose it (the elector) reads
     * {@link Replicated#acknowledged()}.
     *
     * <p>Runs on a connection of its own, made on first use, so a {@code WAIT} that blocks for
     * {@code timeout} never holds up the commands of other modules; callers of this method queue
     * behind each other. On a Cluster the script goes straight to the node that serves the slot;
     * when that fails (MOVED after a failover, a dead node) the slot map is refreshed for the next
     * call. The future fails as {@link #eval} does.
     *
     * @throws IllegalArgumentException unless {@code replicas} ≥ 1 and {@code timeout} is positive
     */
    public <T> CompletableFuture<Replicated<T>> evalReplicated(RedisScript script, ScriptOutputType type, String[] keys,
                                                               String[] args, int replicas, Duration timeout) {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be at least 1, was " + replicas);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        CompletableFuture<Replicated<T>> result = nodeCommands(keys[0]).thenCompose(node -> {
            CompletableFuture<T> reply = eval(node, script, type, keys, args);
            CompletableFuture<List<Object>> role = node.role().toCompletableFuture(); // pipelined behind the script
            return reply.thenCombine(role, (value, roleReply) -> new Replicated<>(value, connectedReplicas(roleReply), 0))
                    .thenCompose(done -> done.connectedReplicas() == 0
                            ? CompletableFuture.completedFuture(done)
                            : node.waitForReplication(Math.min(replicas, done.connectedReplicas()), timeout.toMillis())
                                    .toCompletableFuture()
                                    .thenApply(acked -> new Replicated<>(done.reply(), done.connectedReplicas(), acked)));
        });
        if (cluster) {
            result.whenComplete((value, failure) -> {
                if (failure != null && !closed.get()) {
                    ((RedisClusterClient) client).refreshPartitionsAsync(); // MOVED or a dead node: learn the new map
                }
            });
        }
        return result;
    }

    /** Replicas listed by a master's {@code ROLE} reply: ["master", offset, [[ip, port, offset], ...]]. */
    private static int connectedReplicas(List<Object> role) {
        if (role != null && role.size() >= 3 && "master".equals(String.valueOf(role.get(0)))
                && role.get(2) instanceof List<?> replicas) {
            return replicas.size();
        }
        return 0;
    }

    private CompletableFuture<io.lettuce.core.api.async.RedisAsyncCommands<String, String>> nodeCommands(String key) {
        StatefulConnection<String, String> own;
        try {
            own = replicatedConnection();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (own instanceof StatefulRedisClusterConnection<String, String> clustered) {
            int slot = io.lettuce.core.cluster.SlotHash.getSlot(key);
            io.lettuce.core.cluster.models.partitions.RedisClusterNode node =
                    clustered.getPartitions().getPartitionBySlot(slot);
            if (node == null) {
                return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE,
                        "no node of " + description + " serves slot " + slot));
            }
            return clustered.getConnectionAsync(node.getNodeId()).thenApply(StatefulRedisConnection::async);
        }
        return CompletableFuture.completedFuture(((StatefulRedisConnection<String, String>) own).async());
    }

    private StatefulConnection<String, String> replicatedConnection() {
        synchronized (closed) {
            if (closed.get()) {
                throw new BraidException(Code.UNAVAILABLE, "connector to " + description + " is closed");
            }
            if (replicatedConnection == null) {
                replicatedConnection = connectTracked(
                        () -> cluster ? ((RedisClusterClient) client).connect() : ((RedisClient) client).connect());
            }
            return replicatedConnection;
        }
    }

    private static <T> CompletableFuture<T> eval(RedisClusterAsyncCommands<String, String> node,
                                                 RedisScript script, ScriptOutputType type, String[] keys, String[] args) {
        return script.evalOn(node, type, keys, args);
    }

    /** Where this connector points, without credentials. */
    public String description() {
        return description;
    }

    @Override
    public void close() {
        StatefulConnection<String, String> own;
        synchronized (closed) { // no connection is made for evalReplicated once closing has begun
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            own = replicatedConnection;
        }
        if (sentinelWatch != null) {
            sentinelWatch.close(); // first: no change of master may drop connections while they close
        }
        if (own != null) {
            own.close();
        }
        shutdown(client, resources); // closes every connection it made that is still open
    }

    private static void shutdown(AbstractRedisClient client, ClientResources resources) {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "RedisConnector{" + description + "}";
    }
}
