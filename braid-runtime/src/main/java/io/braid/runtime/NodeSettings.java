package io.braid.runtime;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.AsyncHandler;
import io.braid.api.ChannelOptions;
import io.braid.api.ClientInterceptor;
import io.braid.api.Codec;
import io.braid.api.Handler;
import io.braid.api.MessageHandler;
import io.braid.api.Node;
import io.braid.api.Server;
import io.braid.api.ServerInterceptor;
import io.braid.api.Ticker;
import io.braid.api.internal.Checks;
import io.braid.linkcache.internal.RedisLinkCache;
import io.braid.monitor.MonitorOptions;
import io.braid.pubsub.internal.RedisPubsub;
import io.braid.redis.RedisConnector;
import io.braid.redis.RedisTls;
import io.braid.rpc.internal.RpcClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.SslContext;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * The settings of a node as they are being set: the setters of {@link Braid.Builder}, each
 * validating its own value at once. {@link Braid.Builder#start()} copies them into a
 * {@link NodeOptions} and reads them no more, so a builder changed after {@code start()} changes
 * nothing in the node it started. Not thread-safe (a builder is used by one thread).
 */
abstract class NodeSettings {
    String service;
    String nodeId;
    String host = "127.0.0.1";
    String bindHost;
    int rpcPort;
    int weight = 100;
    final Map<String, String> metadata = new LinkedHashMap<>();
    String redisUri;
    List<String> redisClusterUris;
    RedisConnector redis;
    RedisTls redisTls;
    InMemoryControlPlane plane;
    Duration heartbeat = Duration.ofSeconds(1);
    Duration ttl = Duration.ofSeconds(3);
    Duration lease = Duration.ofSeconds(3);
    Duration defaultTimeout = RpcClient.Builder.DEFAULT_TIMEOUT;
    Duration shutdownGrace = Duration.ofSeconds(10);
    Duration drainTimeout = Duration.ofMinutes(5);
    Duration trimInterval = Duration.ofSeconds(10);
    Duration redisCommandTimeout = RedisConnector.DEFAULT_COMMAND_TIMEOUT;
    int ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
    boolean nearCache = true;
    Duration stalenessBound = RedisLinkCache.DEFAULT_STALENESS_BOUND;
    Duration ephemeralIdleLimit = RedisPubsub.DEFAULT_EPHEMERAL_IDLE_LIMIT;
    Ticker ticker = Ticker.system();
    ScheduledExecutorService scheduler;
    SslContext serverTls;
    SslContext clientTls;
    final List<Consumer<Server>> handlers = new ArrayList<>();
    final List<Runnable> beforeStartHooks = new ArrayList<>();
    final List<Consumer<Braid>> afterStartHooks = new ArrayList<>();
    final List<Consumer<Braid>> beforeStopHooks = new ArrayList<>();
    final List<io.braid.api.internal.PlayerViewContributor> playerViewContributors = new ArrayList<>();
    final List<Runnable> afterStopHooks = new ArrayList<>();
    final List<NodeOptions.Subscriber> subscribers = new ArrayList<>();
    final List<ClientInterceptor> clientInterceptors = new ArrayList<>();
    final List<ServerInterceptor> serverInterceptors = new ArrayList<>();
    final List<Codec> codecs = new ArrayList<>();
    Players<?> players;
    MonitorOptions monitor;
    MeterRegistry meterRegistry;
    OpenTelemetry openTelemetry;
    io.braid.monitor.TracePlayers tracePlayers = io.braid.monitor.TracePlayers.PLAIN;

    NodeSettings() {
    }

    private Braid.Builder self() {
        return (Braid.Builder) this;
    }

    /** The service this node serves (required), e.g. {@code "logic"}. */
    public Braid.Builder service(String service) {
        this.service = Checks.notBlank(service, "service");
        return self();
    }

    /** This node's id, unique in the cluster; default {@code service-<random>}. */
    public Braid.Builder nodeId(String nodeId) {
        this.nodeId = Checks.notBlank(nodeId, "nodeId");
        return self();
    }

    /** The address other nodes reach this one at; default 127.0.0.1. */
    public Braid.Builder host(String host) {
        this.host = Checks.notBlank(host, "host");
        return self();
    }

    /** The address the RPC server binds; default {@link #host}. Use 0.0.0.0 in containers. */
    public Braid.Builder bindHost(String bindHost) {
        this.bindHost = Checks.notBlank(bindHost, "bindHost");
        return self();
    }

    /** RPC port, 0..65535; 0 (default) picks a free one. */
    public Braid.Builder rpcPort(int port) {
        this.rpcPort = Checks.inRange(port, 0, 65_535, "rpcPort");
        return self();
    }

    /** Share of new links under smooth weighted round robin, 0..1,000,000; default 100. */
    public Braid.Builder weight(int weight) {
        this.weight = Checks.inRange(weight, 0, Node.MAX_WEIGHT, "weight");
        return self();
    }

    public Braid.Builder metadata(String key, String value) {
        metadata.put(Checks.notBlank(key, "metadata key"), Objects.requireNonNull(value, "metadata value"));
        return self();
    }

    /** Use Redis (standalone or Sentinel: {@code redis://}, {@code rediss://}, {@code redis-sentinel://}). */
    public Braid.Builder redis(String uri) {
        this.redisUri = Checks.notBlank(uri, "redis uri");
        return self();
    }

    /**
     * TLS settings for {@code rediss://} ({@link #redis(String)} or {@link #redisCluster}): the
     * CA that signed the server's certificate, e.g. {@code RedisTls.trusting(Path.of("ca.pem"))};
     * without them {@code rediss://} trusts what the JVM trusts.
     */
    public Braid.Builder redisTls(RedisTls tls) {
        this.redisTls = Objects.requireNonNull(tls, "redis tls");
        return self();
    }

    /** Use a Redis Cluster, reached through any of these nodes. */
    public Braid.Builder redisCluster(List<String> seedUris) {
        if (seedUris == null || seedUris.isEmpty()) {
            throw new IllegalArgumentException("redisCluster needs at least one seed URI");
        }
        this.redisClusterUris = List.copyOf(seedUris);
        return self();
    }

    /** Use a Redis connector made elsewhere; the node borrows it and never closes it. */
    public Braid.Builder redis(RedisConnector connector) {
        this.redis = Objects.requireNonNull(connector, "redis connector");
        return self();
    }

    /** Use this in-memory control plane (no Redis); default the plane named "default". */
    public Braid.Builder inMemory(InMemoryControlPlane plane) {
        this.plane = Objects.requireNonNull(plane, "plane");
        return self();
    }

    /** Use the in-memory control plane of this name in this JVM. */
    public Braid.Builder inMemory(String clusterName) {
        this.plane = InMemoryControlPlane.named(clusterName);
        return self();
    }

    /**
     * Discovery heartbeat and record TTL (Redis); defaults 1 s and 3 s. {@link Braid.Builder#start()} refuses
     * a heartbeat longer than ttl/3.
     *
     * <p>Why: the node fences itself (answers UNAVAILABLE to token calls) once it has not
     * confirmed its registration for {@code fence = ttl - ttl/3}, measured from when the last
     * confirmed heartbeat was <em>sent</em>. Safety: that heartbeat ran in Redis no earlier than
     * it was sent, so the record lives at least until {@code sent + ttl}, and no other node can
     * be given this node's players before then; the node stops taking their calls
     * {@code ttl/3} earlier, which is what a call admitted just before the fence closed has to
     * finish in. Liveness: a heartbeat leaves every {@code heartbeat}, so on a healthy node the
     * time since the last confirmed send never exceeds {@code heartbeat + d}, where {@code d} is
     * the next heartbeat's scheduling delay plus round trip. The fence stays open while
     * {@code heartbeat + d < ttl - ttl/3}; with {@code heartbeat <= ttl/3} that holds for every
     * {@code d < ttl/3}: a whole third of the TTL for one round trip (333 ms at a 1 s TTL, 1 s
     * at the default 3 s). With {@code heartbeat(500 ms, 1 s)} {@code d} would have to stay
     * under 167 ms, and every heartbeat whose round trip runs late closes the fence for a
     * moment: before this rule, 127 of 6,000 token calls (2.1%) to a healthy node failed
     * UNAVAILABLE with it (measured with {@code SettingsRulesTest}'s load). RedisDiscover on its own only requires
     * {@code ttl >= 2 x heartbeat}; the node needs the stricter rule because of the fence.
     */
    public Braid.Builder heartbeat(Duration heartbeat, Duration ttl) {
        this.heartbeat = Checks.positive(heartbeat, "heartbeat");
        this.ttl = Checks.positive(ttl, "ttl");
        return self();
    }

    /** Leadership lease (Redis); default 3 s. */
    public Braid.Builder lease(Duration lease) {
        this.lease = Checks.positive(lease, "lease");
        return self();
    }

    /** Timeout of calls that set none; default 10 s. */
    public Braid.Builder defaultTimeout(Duration timeout) {
        this.defaultTimeout = Checks.positive(timeout, "defaultTimeout");
        return self();
    }

    /** How long close() lets calls in flight finish; default 10 s. */
    public Braid.Builder shutdownGrace(Duration grace) {
        this.shutdownGrace = Checks.notNegative(grace, "shutdownGrace");
        return self();
    }

    /** Longest {@link Braid#drain()} waits for linked players to leave; default 5 minutes. */
    public Braid.Builder drainTimeout(Duration timeout) {
        this.drainTimeout = Checks.positive(timeout, "drainTimeout");
        return self();
    }

    /**
     * How long a Redis command may take before it fails; default 2 s. A burst of N new tokens
     * costs about 2N commands on one shared connection: raise this for huge login waves.
     * {@link Braid.Builder#start()} refuses less than twice pub-sub's blocking read (500 ms): a channel's XREADGROUP waits that long for messages and must still come back, with its
     * round trip, inside the command timeout, or every idle read would fail as a timeout.
     */
    public Braid.Builder redisCommandTimeout(Duration timeout) {
        this.redisCommandTimeout = Checks.positive(timeout, "redisCommandTimeout");
        return self();
    }

    /** How often the service leader trims topics below what their slowest channel needs; default 10 s. */
    public Braid.Builder trimInterval(Duration interval) {
        this.trimInterval = Checks.positive(interval, "trimInterval");
        return self();
    }

    /** Event loop threads shared by the node's server and client; default one per core. */
    public Braid.Builder ioThreads(int threads) {
        this.ioThreads = (int) Checks.atLeast(threads, 1, "ioThreads");
        return self();
    }

    /**
     * Whether this node keeps a near cache of token links in front of Redis; default true, and a
     * warm token call makes no Redis round trip. Off, every token call reads its owner from
     * Redis. The in-memory control plane has no near cache either way.
     */
    public Braid.Builder nearCache(boolean enabled) {
        this.nearCache = enabled;
        return self();
    }

    /**
     * The longest a near-cache answer may lag a link change committed in Redis, whatever happens to
     * the invalidations (the link cache's own bound), 100 ms..1 min; default 1 s. Shorter costs more
     * heartbeat PUBLISHes and more lookups that read Redis, never a stale answer.
     */
    public Braid.Builder stalenessBound(Duration bound) {
        this.stalenessBound = within(bound, Duration.ofMillis(100), Duration.ofMinutes(1), "stalenessBound",
                "100 ms..1 min");
        return self();
    }

    /**
     * How long one of this node's ephemeral pub-sub channels may go unmarked (its node crashed or
     * was cut off) before the leader's trim removes it, 1 s..1 day; default 5 minutes (Redis).
     */
    public Braid.Builder ephemeralIdleLimit(Duration limit) {
        this.ephemeralIdleLimit = within(limit, Duration.ofSeconds(1), Duration.ofDays(1), "ephemeralIdleLimit",
                "1 s..1 day");
        return self();
    }

    /**
     * The clock of the node's own timing policies (the self-fence's quarantine, how long an owner
     * refuses a player it gave away, the drain's timeout); default {@link Ticker#system()}. Tests
     * pass a ticker they move by hand.
     */
    public Braid.Builder ticker(Ticker ticker) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        return self();
    }

    /**
     * Where the node runs its timed work (the leader's chores, the drain's checks); borrowed, never
     * shut down by the node, and its tasks never block. Default: a one-thread scheduler of the
     * node's own, shut down when it closes.
     */
    public Braid.Builder scheduler(ScheduledExecutorService scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        return self();
    }

    private static Duration within(Duration value, Duration min, Duration max, String name, String range) {
        Objects.requireNonNull(value, name);
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(name + " must be in " + range + ", was " + value);
        }
        return value;
    }

    /** TLS for RPC: the server context this node serves with and the client context it calls with. */
    public Braid.Builder tls(SslContext server, SslContext client) {
        this.serverTls = Objects.requireNonNull(server, "server tls");
        this.clientTls = Objects.requireNonNull(client, "client tls");
        return self();
    }

    /** Runs first thing in {@link Braid.Builder#start()}. */
    public Braid.Builder beforeStart(Runnable hook) {
        beforeStartHooks.add(Objects.requireNonNull(hook, "hook"));
        return self();
    }

    /** Runs once the node is registered and serving. */
    public Braid.Builder afterStart(Consumer<Braid> hook) {
        afterStartHooks.add(Objects.requireNonNull(hook, "hook"));
        return self();
    }

    /**
     * Adds what a module of braid knows of a player (the gateway: its session) to the monitor's
     * "where is a player?" on this node. For braid's own modules: the contract is internal.
     */
    public Braid.Builder playerViewContributor(io.braid.api.internal.PlayerViewContributor contributor) {
        playerViewContributors.add(Objects.requireNonNull(contributor, "playerViewContributor"));
        return self();
    }

    /** Runs first thing in {@link Braid#close()}, while everything still works. */
    public Braid.Builder beforeStop(Consumer<Braid> hook) {
        beforeStopHooks.add(Objects.requireNonNull(hook, "hook"));
        return self();
    }

    /** Runs once everything is closed. */
    public Braid.Builder afterStop(Runnable hook) {
        afterStopHooks.add(Objects.requireNonNull(hook, "hook"));
        return self();
    }

    /**
     * Subscribes {@code handler} to {@code channel} of {@code topic} for the life of the node
     * (go-micro's Server.Subscribe): delivery starts with the node and stops when it closes.
     */
    public Braid.Builder subscribe(String topic, String channel, MessageHandler handler) {
        return subscribe(topic, channel, ChannelOptions.DEFAULT, handler);
    }

    public Braid.Builder subscribe(String topic, String channel, ChannelOptions options, MessageHandler handler) {
        subscribers.add(new NodeOptions.Subscriber(Checks.notBlank(topic, "topic"), Checks.notBlank(channel, "channel"),
                Objects.requireNonNull(options, "options"), Objects.requireNonNull(handler, "handler")));
        return self();
    }

    /** Adds a client interceptor (after the built-in deadline propagation), in order. */
    public Braid.Builder clientInterceptor(ClientInterceptor interceptor) {
        clientInterceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
        return self();
    }

    /** Adds a server interceptor, in order, around every handler of this node. */
    public Braid.Builder serverInterceptor(ServerInterceptor interceptor) {
        serverInterceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
        return self();
    }

    /**
     * Starts the monitor on this node: the dashboard at {@code /}, the JSON API, {@code /metrics}
     * and health checks, on 127.0.0.1:{@code port} (9999 by convention; 0 picks a free one).
     */
    public Braid.Builder monitor(int port) {
        this.monitor = MonitorOptions.port(port);
        return self();
    }

    /** Starts the monitor with these options (address, port, bearer token, refresh). */
    public Braid.Builder monitor(MonitorOptions options) {
        this.monitor = Objects.requireNonNull(options, "monitor options");
        return self();
    }

    /**
     * Records this node's meters in {@code registry} (borrowed, never closed by the node);
     * default a Prometheus registry of the node's own, which the monitor's {@code /metrics} shows.
     */
    public Braid.Builder meterRegistry(MeterRegistry registry) {
        this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
        return self();
    }

    /**
     * Traces calls (client and server spans, W3C context in the call metadata) and messages
     * (producer and consumer spans, context in the headers) with {@code openTelemetry}; default
     * no tracing.
     */
    public Braid.Builder openTelemetry(OpenTelemetry openTelemetry) {
        this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
        return self();
    }

    /**
     * How players are named in this node's spans ({@code braid.player}, also carried as baggage)
     * and hot players: {@code TracePlayers.PLAIN} (the token; default), {@code TracePlayers.hashed(secret)}
     * (a keyed hash, the same on nodes sharing the secret) or {@code TracePlayers.OFF}.
     */
    public Braid.Builder tracePlayers(io.braid.monitor.TracePlayers players) {
        this.tracePlayers = Objects.requireNonNull(players, "tracePlayers");
        return self();
    }

    /** Adds a codec (content type) to this node's client and server. */
    public Braid.Builder codec(Codec codec) {
        codecs.add(Objects.requireNonNull(codec, "codec"));
        return self();
    }

    /** A blocking handler (on a virtual thread: handler threads are reused from call to call). */
    public <Q, R extends MessageLite> Braid.Builder handle(String method, Parser<Q> parser, Handler<Q, R> handler) {
        handlers.add(s -> s.handle(method, parser, handler));
        return self();
    }

    /** A non-blocking handler (inline on the event loop; must never block). */
    public <Q, R extends MessageLite> Braid.Builder handleAsync(String method, Parser<Q> parser, AsyncHandler<Q, R> handler) {
        handlers.add(s -> s.handleAsync(method, parser, handler));
        return self();
    }

    /** A bidirectional stream handler (virtual thread per stream). */
    public <Q, R extends MessageLite> Braid.Builder handleStream(String method, Parser<Q> parser,
                                                           io.braid.api.StreamHandler<Q, R> handler) {
        handlers.add(s -> s.handleStream(method, parser, handler));
        return self();
    }

    /**
     * The players of this service: their methods run in their token's lane and get the player's
     * state, made and ended as {@code players} says (see {@link Players}). Copied now: changing the
     * definition afterwards changes nothing here. One definition per node.
     *
     * @throws IllegalStateException when players were set already
     */
    public Braid.Builder players(Players<?> players) {
        Objects.requireNonNull(players, "players");
        if (this.players != null) {
            throw new IllegalStateException("players were set already: a node has one Players definition "
                    + "(put every player method on it)");
        }
        this.players = players.copy();
        return self();
    }

    public Braid.Builder handleBytes(String method, Handler<byte[], byte[]> handler) {
        handlers.add(s -> s.handleBytes(method, handler));
        return self();
    }

    /**
     * The rules between settings that are each legal alone; checked before anything starts. The
     * elector's own builder checks lease against its renewal when the election starts.
     */
}
