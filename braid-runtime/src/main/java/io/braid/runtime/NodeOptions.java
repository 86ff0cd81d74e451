package io.braid.runtime;

import io.braid.api.ChannelOptions;
import io.braid.api.ClientInterceptor;
import io.braid.api.Codec;
import io.braid.api.MessageHandler;
import io.braid.api.Server;
import io.braid.api.ServerInterceptor;
import io.braid.api.Ticker;
import io.braid.monitor.MonitorOptions;
import io.braid.redis.RedisConnector;
import io.braid.redis.RedisTls;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.SslContext;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * The settings of one started node, copied from its {@link Braid.Builder} by {@code start()} and
 * immutable from then on (lists and maps are copies). Making one checks the rules between settings
 * that are each legal alone, before anything starts.
 */
final class NodeOptions {
    /** How long a pub-sub channel's read blocks waiting for messages (XREADGROUP BLOCK). */
    static final Duration PUBSUB_BLOCK = Duration.ofMillis(500);

    /** A subscription for the life of the node. */
    record Subscriber(String topic, String channel, ChannelOptions options, MessageHandler handler) {
    }

    final String service;
    final String nodeId;
    final String host;
    final String bindHost;
    final int rpcPort;
    final int weight;
    final Map<String, String> metadata;
    final String redisUri;
    final List<String> redisClusterUris;
    final RedisConnector redis;
    final RedisTls redisTls;
    final InMemoryControlPlane plane;
    final Duration heartbeat;
    final Duration ttl;
    final Duration lease;
    final Duration defaultTimeout;
    final Duration shutdownGrace;
    final Duration drainTimeout;
    final Duration trimInterval;
    final Duration redisCommandTimeout;
    final int ioThreads;
    final boolean nearCache;
    final Duration stalenessBound;
    final Duration ephemeralIdleLimit;
    final Ticker ticker;
    /** Borrowed from the user, or null: the node makes its own. */
    final ScheduledExecutorService scheduler;
    final SslContext serverTls;
    final SslContext clientTls;
    final List<Consumer<Server>> handlers;
    final List<Runnable> beforeStartHooks;
    final List<Consumer<Braid>> afterStartHooks;
    final List<Consumer<Braid>> beforeStopHooks;
    final List<io.braid.api.internal.PlayerViewContributor> playerViewContributors;
    final List<Runnable> afterStopHooks;
    final List<Subscriber> subscribers;
    final List<ClientInterceptor> clientInterceptors;
    final List<ServerInterceptor> serverInterceptors;
    final List<Codec> codecs;
    /** The player definition, or null: the node has no players. */
    final Players<?> players;
    final MonitorOptions monitor;
    final MeterRegistry meterRegistry;
    final OpenTelemetry openTelemetry;
    final io.braid.monitor.TracePlayers tracePlayers;

    /**
     * @throws IllegalStateException when a required setting is missing or two settings do not go
     *     together, with a message naming the rule
     */
    NodeOptions(NodeSettings settings) {
        if (settings.service == null) {
            throw new IllegalStateException("service is required");
        }
        service = settings.service;
        nodeId = settings.nodeId != null ? settings.nodeId : service + "-" + UUID.randomUUID().toString().substring(0, 8);
        host = settings.host;
        bindHost = settings.bindHost != null ? settings.bindHost : settings.host;
        rpcPort = settings.rpcPort;
        weight = settings.weight;
        metadata = Map.copyOf(settings.metadata);
        redisUri = settings.redisUri;
        redisClusterUris = settings.redisClusterUris;
        redis = settings.redis;
        redisTls = settings.redisTls;
        plane = settings.plane;
        heartbeat = settings.heartbeat;
        ttl = settings.ttl;
        lease = settings.lease;
        defaultTimeout = settings.defaultTimeout;
        shutdownGrace = settings.shutdownGrace;
        drainTimeout = settings.drainTimeout;
        trimInterval = settings.trimInterval;
        redisCommandTimeout = settings.redisCommandTimeout;
        ioThreads = settings.ioThreads;
        nearCache = settings.nearCache;
        stalenessBound = settings.stalenessBound;
        ephemeralIdleLimit = settings.ephemeralIdleLimit;
        ticker = settings.ticker;
        scheduler = settings.scheduler;
        serverTls = settings.serverTls;
        clientTls = settings.clientTls;
        handlers = List.copyOf(settings.handlers);
        beforeStartHooks = List.copyOf(settings.beforeStartHooks);
        afterStartHooks = List.copyOf(settings.afterStartHooks);
        beforeStopHooks = List.copyOf(settings.beforeStopHooks);
        playerViewContributors = List.copyOf(settings.playerViewContributors);
        afterStopHooks = List.copyOf(settings.afterStopHooks);
        subscribers = List.copyOf(settings.subscribers);
        clientInterceptors = List.copyOf(settings.clientInterceptors);
        serverInterceptors = List.copyOf(settings.serverInterceptors);
        codecs = List.copyOf(settings.codecs);
        players = settings.players;
        monitor = settings.monitor;
        meterRegistry = settings.meterRegistry;
        openTelemetry = settings.openTelemetry;
        tracePlayers = settings.tracePlayers;
        checkCombinedSettings();
    }

    /**
     * The rules between settings that are each legal alone. The elector's own builder checks lease
     * against its renewal when the election starts.
     */
    private void checkCombinedSettings() {
        if (heartbeat.compareTo(ttl.dividedBy(3)) > 0) {
            throw new IllegalStateException("heartbeat (" + heartbeat + ") must be at most ttl/3 (" + ttl.dividedBy(3)
                    + " for ttl " + ttl + "): the node fences itself after ttl - ttl/3 (" + SelfFence.window(ttl)
                    + ") without a confirmed heartbeat, and needs the rest of that window for one heartbeat's"
                    + " round trip, or a healthy node refuses token calls at every heartbeat");
        }
        if (redisCommandTimeout.compareTo(PUBSUB_BLOCK.multipliedBy(2)) < 0) {
            throw new IllegalStateException("redisCommandTimeout (" + redisCommandTimeout + ") must be at least "
                    + PUBSUB_BLOCK.multipliedBy(2) + ", twice pub-sub's blocking read (" + PUBSUB_BLOCK + "): a"
                    + " blocking read that outlasts the command timeout fails on every idle channel");
        }
        int backends = (redisUri != null ? 1 : 0) + (redisClusterUris != null ? 1 : 0) + (redis != null ? 1 : 0)
                + (plane != null ? 1 : 0);
        if (backends > 1) {
            throw new IllegalStateException("choose one control plane: redis(uri), redisCluster(uris), "
                    + "redis(connector) or inMemory(...)");
        }
        if (redisTls != null && redisUri == null && redisClusterUris == null) {
            throw new IllegalStateException("redisTls applies to redis(uri) and redisCluster(uris) only");
        }
    }
}
