package io.braid.redis;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
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
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One Redis deployment (a standalone server, Sentinel-managed, or a Cluster) and the connections
 * braid's modules share on it: one multiplexed command connection, and pub/sub or binary
 * connections on request. Whoever creates a connector closes it, which closes every connection it
 * made; the modules it is lent to never do.
 *
 * <p>Commands fail fast while Redis is unreachable (no unbounded buffering): the caller sees the
 * failure and retries on its own schedule; the connections reconnect by themselves. Thread-safe.
 */
public final class RedisConnector implements AutoCloseable {
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);
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

    private RedisConnector(String description, boolean cluster, ClientResources resources, AbstractRedisClient client,
                           StatefulConnection<String, String> connection, RedisClusterAsyncCommands<String, String> commands) {
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
        RedisURI redisUri = parse(uri, commandTimeout);
        ClientResources resources = newResources();
        RedisClient client = RedisClient.create(resources, redisUri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .socketOptions(socketOptions(commandTimeout))
                .build());
        try {
            StatefulRedisConnection<String, String> connection = client.connect();
            return new RedisConnector(redactedUri(redisUri), false, resources, client, connection, connection.async());
        } catch (RuntimeException e) {
            shutdown(client, resources);
            throw new BraidException(Code.UNAVAILABLE, "cannot connect to Redis at " + redactedUri(redisUri) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Connects to a Redis Cluster through any of its nodes ({@code redis://host:port}, ...). */
    public static RedisConnector connectCluster(List<String> seedUris) {
        return connectCluster(seedUris, DEFAULT_COMMAND_TIMEOUT);
    }

    public static RedisConnector connectCluster(List<String> seedUris, Duration commandTimeout) {
        if (seedUris == null || seedUris.isEmpty()) {
            throw new IllegalArgumentException("a Redis Cluster needs at least one seed URI");
        }
        List<RedisURI> seeds = new ArrayList<>();
        for (String uri : seedUris) {
            seeds.add(parse(uri, commandTimeout));
        }
        ClientResources resources = newResources();
        RedisClusterClient client = RedisClusterClient.create(resources, seeds);
        client.setOptions(ClusterClientOptions.builder()
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
            throw new BraidException(Code.UNAVAILABLE, "cannot connect to Redis " + description + ": " + e.getMessage(), e);
        }
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

    private static ClientResources newResources() {
        return DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
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
        StatefulConnection<String, byte[]> binary = cluster
                ? ((RedisClusterClient) client).connect(BINARY)
                : ((RedisClient) client).connect(BINARY);
        return binary;
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
        StatefulRedisPubSubConnection<String, String> pubSub = cluster
                ? ((RedisClusterClient) client).connectPubSub()
                : ((RedisClient) client).connectPubSub();
        return pubSub;
    }

    /**
     * Runs a script by its SHA-1, sending its source once if Redis does not know it. The future
     * fails with the Redis error; {@link RedisErrors} tells what it was.
     */
    public <T> CompletableFuture<T> eval(RedisScript script, ScriptOutputType type, String[] keys, String... args) {
        CompletableFuture<T> result = new CompletableFuture<>();
        commands.<T>evalsha(script.sha(), type, keys, args).whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
            } else if (RedisErrors.is(failure, RedisErrors.NOSCRIPT)) {
                commands.<T>eval(script.source(), type, keys, args).whenComplete((again, error) -> {
                    if (error == null) {
                        result.complete(again);
                    } else {
                        result.completeExceptionally(error);
                    }
                });
            } else {
                result.completeExceptionally(failure);
            }
        });
        return result;
    }

    /** Where this connector points, without credentials. */
    public String description() {
        return description;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
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
