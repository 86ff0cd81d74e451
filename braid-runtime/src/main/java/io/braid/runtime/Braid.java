package io.braid.runtime;

import io.braid.api.internal.Checks;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.AsyncHandler;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ChannelOptions;
import io.braid.api.ClientInterceptor;
import io.braid.api.Codec;
import io.braid.api.Client;
import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Elector;
import io.braid.api.Handler;
import io.braid.api.LinkCache;
import io.braid.api.MessageHandler;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Pubsub;
import io.braid.api.Topic;
import io.braid.api.Server;
import io.braid.api.ServerInterceptor;
import io.braid.discover.InMemoryDiscover;
import io.braid.discover.RedisDiscover;
import io.braid.elector.InMemoryElector;
import io.braid.elector.RedisElector;
import io.braid.linkcache.InMemoryLinkCache;
import io.braid.linkcache.RedisLinkCache;
import io.braid.monitor.MonitorOptions;
import io.braid.monitor.Monitoring;
import io.braid.pubsub.InMemoryPubsub;
import io.braid.pubsub.RedisPubsub;
import io.braid.redis.RedisConnector;
import io.braid.redis.RedisTls;
import io.braid.rpc.RpcClient;
import io.braid.rpc.RpcServer;
import io.braid.rpc.internal.Transports;
import io.netty.channel.EventLoopGroup;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.SslContext;
import io.opentelemetry.api.OpenTelemetry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of a braid cluster: an RPC server for its service, a client that finds every other
 * service through discovery, and a seat in its service's leader election. Built with
 * {@link #builder()}:
 *
 * <pre>{@code
 * Braid braid = Braid.builder().service("logic").nodeId("logic-1")
 *     .redis("redis://127.0.0.1:6379")      // omitted: the in-memory control plane of this JVM
 *     .handle("player.login", LoginReq.parser(), (ctx, req) -> ...)
 *     .start();
 * }</pre>
 *
 * <p>Two {@code Braid} instances in one JVM are two nodes. {@link #close()} leaves the election,
 * deregisters, lets calls in flight finish (GoAway), and closes everything in reverse start order;
 * it is idempotent. Thread-safe.
 */
public final class Braid implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Braid.class);

    private volatile Node node;
    private final RpcServer server;
    private final RpcClient client;
    private final Discover discover;
    private final Elector elector;
    private final LinkCache links;
    private final Pubsub pubsub;
    private final Monitoring monitoring;
    private final Duration drainTimeout;
    private final Deque<AutoCloseable> closeOrder;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private List<Consumer<Braid>> beforeStop = List.of();
    private List<Runnable> afterStop = List.of();
    private final AtomicBoolean draining = new AtomicBoolean();

    private Braid(Node node, RpcServer server, RpcClient client, Discover discover, Elector elector, LinkCache links,
                  Pubsub pubsub, Monitoring monitoring, Duration drainTimeout, Deque<AutoCloseable> closeOrder) {
        this.node = node;
        this.server = server;
        this.client = client;
        this.discover = discover;
        this.elector = elector;
        this.links = links;
        this.pubsub = pubsub;
        this.monitoring = monitoring;
        this.drainTimeout = drainTimeout;
        this.closeOrder = closeOrder;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** This node as the cluster sees it. */
    public Node node() {
        return node;
    }

    public <R> CompletableFuture<R> invoke(String target, String method, String token, MessageLite request,
                                           Parser<R> responseParser) {
        return client.invoke(target, method, token, request, responseParser);
    }

    public <R> CompletableFuture<R> invoke(String target, String method, String token, MessageLite request,
                                           Parser<R> responseParser, CallOptions options) {
        return client.invoke(target, method, token, request, responseParser, options);
    }

    public CompletableFuture<byte[]> invoke(String target, String method, String token, byte[] request) {
        return client.invoke(target, method, token, request);
    }

    /** Opens a bidirectional stream to the node a call with this token would reach. */
    public <Q extends MessageLite, R> io.braid.api.ClientStream<Q, R> stream(String target, String method, String token,
                                                                            Parser<R> responseParser) {
        return client.stream(target, method, token, responseParser, CallOptions.DEFAULT);
    }

    public Client client() {
        return client;
    }

    public Server server() {
        return server;
    }

    public Discover discover() {
        return discover;
    }

    public Elector elector() {
        return elector;
    }

    /** The link cache; unlinks made through it are announced on {@link ClusterEvents#LINKCACHE_UNLINK}. */
    public LinkCache linkCache() {
        return links;
    }

    public Pubsub pubsub() {
        return pubsub;
    }

    /** Where this node's meters are recorded (the registry handed to the builder, or the node's own). */
    public MeterRegistry meterRegistry() {
        return monitoring.meterRegistry();
    }

    /** Where this node's monitor (dashboard, /api, /metrics) listens, if {@link Builder#monitor} started one. */
    public Optional<InetSocketAddress> monitorAddress() {
        return monitoring.httpAddress();
    }

    /**
     * Changes this node's weight, its share of new links under smooth weighted round robin
     * (0..1,000,000; 0 takes no new links), and registers the change. Links it holds stay.
     */
    public void weight(int weight) {
        Checks.inRange(weight, 0, Node.MAX_WEIGHT, "weight");
        synchronized (this) {
            node = node.withWeight(weight);
        }
        discover.register(node);
    }

    /** The topic of this name (a shortcut for {@code pubsub().topic(name)}). */
    public Topic topic(String name) {
        return pubsub.topic(name);
    }

    /**
     * Empties this node without kicking players: it turns DRAINING (no new links, no stateless
     * calls), keeps serving the tokens linked to it until they unlink or the drain timeout passes,
     * then deregisters and closes. The future completes when the node is closed; calling again
     * returns the same future.
     */
    public CompletableFuture<Void> drain() {
        if (!draining.compareAndSet(false, true)) {
            return drained;
        }
        Node drainingNode;
        synchronized (this) {
            drainingNode = node.withState(NodeState.DRAINING);
            node = drainingNode;
        }
        discover.register(drainingNode);
        log.info("braid node {} draining (up to {})", node.id(), drainTimeout);
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        Thread.ofPlatform().daemon().name("braid-drain-" + node.id()).start(() -> {
            boolean countFailing = false;
            try {
                while (System.nanoTime() - deadline < 0 && !closed.get()) {
                    try {
                        long left = links.linkCountAsync(node.id()).get(5, TimeUnit.SECONDS);
                        if (left == 0) {
                            break;
                        }
                        if (countFailing) {
                            countFailing = false;
                            log.info("braid node {}: counting its links again ({} left)", node.id(), left);
                        }
                    } catch (ExecutionException | TimeoutException e) {
                        // The store cannot say now: that is not "no players left". Keep waiting.
                        if (!countFailing) {
                            countFailing = true;
                            log.warn("braid node {}: cannot count its links ({}); still draining", node.id(),
                                    BraidException.from(e).getMessage());
                        }
                    }
                    TimeUnit.MILLISECONDS.sleep(100);
                }
            } catch (InterruptedException e) {
                log.warn("braid node {}: drain interrupted; closing now", node.id());
            }
            close();
            drained.complete(null);
        });
        return drained;
    }

    /** Leaves the election, deregisters, drains calls in flight, closes everything. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("braid node {} ({}) closing", node.id(), node.service());
        runHooks(beforeStop, hook -> hook.accept(this));
        while (!closeOrder.isEmpty()) {
            AutoCloseable next = closeOrder.pop();
            try {
                next.close();
            } catch (Exception e) {
                log.warn("closing {} of node {} failed", next, node.id(), e);
            }
        }
        runHooks(afterStop, Runnable::run);
        stopped.countDown();
    }

    private <T> void runHooks(List<T> hooks, Consumer<T> run) {
        for (T hook : hooks) {
            try {
                run.accept(hook);
            } catch (RuntimeException e) {
                log.warn("a lifecycle hook of node {} failed", node.id(), e);
            }
        }
    }

    /**
     * The main loop of a game server process (go-micro's Service.Run): blocks until SIGTERM or
     * SIGINT (or {@link #close()} from elsewhere), then {@linkplain #drain() drains} and closes, and
     * returns, so {@code main} can end with exit code 0. A second signal while draining closes at
     * once.
     */
    public void run() throws InterruptedException {
        java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
        Signals.onTermination(name -> {
            int count = signals.incrementAndGet();
            log.info("braid node {}: SIG{} {}", node.id(), name, count == 1 ? "- draining" : "again - closing now");
            if (count == 1) {
                drain();
            } else {
                Thread.ofPlatform().daemon().start(this::close);
            }
        });
        log.info("braid node {} running until SIGTERM or SIGINT", node.id());
        stopped.await();
        if (draining.get()) {
            try {
                drained.get();
            } catch (java.util.concurrent.ExecutionException e) {
                log.warn("braid node {}: drain ended with {}", node.id(), e.getCause().toString());
            }
        }
    }

    /** Settings of a node; each setter validates at once, {@link #start()} checks the whole. */
    public static final class Builder {
        private String service;
        private String nodeId;
        private String host = "127.0.0.1";
        private String bindHost;
        private int rpcPort;
        private int weight = 100;
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private String redisUri;
        private List<String> redisClusterUris;
        private RedisConnector redis;
        private RedisTls redisTls;
        private InMemoryControlPlane plane;
        private Duration heartbeat = Duration.ofSeconds(1);
        private Duration ttl = Duration.ofSeconds(3);
        private Duration lease = Duration.ofSeconds(3);
        private Duration defaultTimeout = RpcClient.Builder.DEFAULT_TIMEOUT;
        private Duration shutdownGrace = Duration.ofSeconds(10);
        private Duration drainTimeout = Duration.ofMinutes(5);
        private Duration trimInterval = Duration.ofSeconds(10);
        private Duration redisCommandTimeout = RedisConnector.DEFAULT_COMMAND_TIMEOUT;
        private int ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private boolean nearCache = true;
        private SslContext serverTls;
        private SslContext clientTls;
        private final List<Consumer<RpcServer>> handlers = new ArrayList<>();
        private final List<Runnable> beforeStartHooks = new ArrayList<>();
        private final List<Consumer<Braid>> afterStartHooks = new ArrayList<>();
        private final List<Consumer<Braid>> beforeStopHooks = new ArrayList<>();
        private final List<Runnable> afterStopHooks = new ArrayList<>();
        private final List<Subscriber> subscribers = new ArrayList<>();
        private final List<ClientInterceptor> clientInterceptors = new ArrayList<>();
        private final List<ServerInterceptor> serverInterceptors = new ArrayList<>();
        private final List<Codec> codecs = new ArrayList<>();
        private MonitorOptions monitor;
        private MeterRegistry meterRegistry;
        private OpenTelemetry openTelemetry;

        private record Subscriber(String topic, String channel, ChannelOptions options, MessageHandler handler) {
        }

        private Builder() {
        }

        /** The service this node serves (required), e.g. {@code "logic"}. */
        public Builder service(String service) {
            this.service = Checks.notBlank(service, "service");
            return this;
        }

        /** This node's id, unique in the cluster; default {@code service-<random>}. */
        public Builder nodeId(String nodeId) {
            this.nodeId = Checks.notBlank(nodeId, "nodeId");
            return this;
        }

        /** The address other nodes reach this one at; default 127.0.0.1. */
        public Builder host(String host) {
            this.host = Checks.notBlank(host, "host");
            return this;
        }

        /** The address the RPC server binds; default {@link #host}. Use 0.0.0.0 in containers. */
        public Builder bindHost(String bindHost) {
            this.bindHost = Checks.notBlank(bindHost, "bindHost");
            return this;
        }

        /** RPC port, 0..65535; 0 (default) picks a free one. */
        public Builder rpcPort(int port) {
            this.rpcPort = Checks.inRange(port, 0, 65_535, "rpcPort");
            return this;
        }

        /** Share of new links under smooth weighted round robin, 0..1,000,000; default 100. */
        public Builder weight(int weight) {
            this.weight = Checks.inRange(weight, 0, Node.MAX_WEIGHT, "weight");
            return this;
        }

        public Builder metadata(String key, String value) {
            metadata.put(Checks.notBlank(key, "metadata key"), Objects.requireNonNull(value, "metadata value"));
            return this;
        }

        /** Use Redis (standalone or Sentinel: {@code redis://}, {@code rediss://}, {@code redis-sentinel://}). */
        public Builder redis(String uri) {
            this.redisUri = Checks.notBlank(uri, "redis uri");
            return this;
        }

        /**
         * TLS settings for {@code rediss://} ({@link #redis(String)} or {@link #redisCluster}): the
         * CA that signed the server's certificate, e.g. {@code RedisTls.trusting(Path.of("ca.pem"))};
         * without them {@code rediss://} trusts what the JVM trusts.
         */
        public Builder redisTls(RedisTls tls) {
            this.redisTls = Objects.requireNonNull(tls, "redis tls");
            return this;
        }

        /** Use a Redis Cluster, reached through any of these nodes. */
        public Builder redisCluster(List<String> seedUris) {
            if (seedUris == null || seedUris.isEmpty()) {
                throw new IllegalArgumentException("redisCluster needs at least one seed URI");
            }
            this.redisClusterUris = List.copyOf(seedUris);
            return this;
        }

        /** Use a Redis connector made elsewhere; the node borrows it and never closes it. */
        public Builder redis(RedisConnector connector) {
            this.redis = Objects.requireNonNull(connector, "redis connector");
            return this;
        }

        /** Use this in-memory control plane (no Redis); default the plane named "default". */
        public Builder inMemory(InMemoryControlPlane plane) {
            this.plane = Objects.requireNonNull(plane, "plane");
            return this;
        }

        /** Use the in-memory control plane of this name in this JVM. */
        public Builder inMemory(String clusterName) {
            this.plane = InMemoryControlPlane.named(clusterName);
            return this;
        }

        /** Discovery heartbeat and record TTL (Redis); defaults 1 s and 3 s. */
        public Builder heartbeat(Duration heartbeat, Duration ttl) {
            this.heartbeat = Checks.positive(heartbeat, "heartbeat");
            this.ttl = Checks.positive(ttl, "ttl");
            return this;
        }

        /** Leadership lease (Redis); default 3 s. */
        public Builder lease(Duration lease) {
            this.lease = Checks.positive(lease, "lease");
            return this;
        }

        /** Timeout of calls that set none; default 10 s. */
        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = Checks.positive(timeout, "defaultTimeout");
            return this;
        }

        /** How long close() lets calls in flight finish; default 10 s. */
        public Builder shutdownGrace(Duration grace) {
            this.shutdownGrace = Checks.notNegative(grace, "shutdownGrace");
            return this;
        }

        /** Longest {@link Braid#drain()} waits for linked players to leave; default 5 minutes. */
        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = Checks.positive(timeout, "drainTimeout");
            return this;
        }

        /**
         * How long a Redis command may take before it fails; default 2 s. A burst of N new tokens
         * costs about 2N commands on one shared connection: raise this for huge login waves.
         */
        public Builder redisCommandTimeout(Duration timeout) {
            this.redisCommandTimeout = Checks.positive(timeout, "redisCommandTimeout");
            return this;
        }

        /** How often the service leader trims topics below what their slowest channel needs; default 10 s. */
        public Builder trimInterval(Duration interval) {
            this.trimInterval = Checks.positive(interval, "trimInterval");
            return this;
        }

        /** Event loop threads shared by the node's server and client; default one per core. */
        public Builder ioThreads(int threads) {
            this.ioThreads = (int) Checks.atLeast(threads, 1, "ioThreads");
            return this;
        }

        /**
         * Whether this node keeps a near cache of token links in front of Redis; default true, and a
         * warm token call makes no Redis round trip. Off, every token call reads its owner from
         * Redis. The in-memory control plane has no near cache either way.
         */
        public Builder nearCache(boolean enabled) {
            this.nearCache = enabled;
            return this;
        }

        /** TLS for RPC: the server context this node serves with and the client context it calls with. */
        public Builder tls(SslContext server, SslContext client) {
            this.serverTls = Objects.requireNonNull(server, "server tls");
            this.clientTls = Objects.requireNonNull(client, "client tls");
            return this;
        }

        /** Runs first thing in {@link #start()}. */
        public Builder beforeStart(Runnable hook) {
            beforeStartHooks.add(Objects.requireNonNull(hook, "hook"));
            return this;
        }

        /** Runs once the node is registered and serving. */
        public Builder afterStart(Consumer<Braid> hook) {
            afterStartHooks.add(Objects.requireNonNull(hook, "hook"));
            return this;
        }

        /** Runs first thing in {@link Braid#close()}, while everything still works. */
        public Builder beforeStop(Consumer<Braid> hook) {
            beforeStopHooks.add(Objects.requireNonNull(hook, "hook"));
            return this;
        }

        /** Runs once everything is closed. */
        public Builder afterStop(Runnable hook) {
            afterStopHooks.add(Objects.requireNonNull(hook, "hook"));
            return this;
        }

        /**
         * Subscribes {@code handler} to {@code channel} of {@code topic} for the life of the node
         * (go-micro's Server.Subscribe): delivery starts with the node and stops when it closes.
         */
        public Builder subscribe(String topic, String channel, MessageHandler handler) {
            return subscribe(topic, channel, ChannelOptions.DEFAULT, handler);
        }

        public Builder subscribe(String topic, String channel, ChannelOptions options, MessageHandler handler) {
            subscribers.add(new Subscriber(Checks.notBlank(topic, "topic"), Checks.notBlank(channel, "channel"),
                    Objects.requireNonNull(options, "options"), Objects.requireNonNull(handler, "handler")));
            return this;
        }

        /** Adds a client interceptor (after the built-in deadline propagation), in order. */
        public Builder clientInterceptor(ClientInterceptor interceptor) {
            clientInterceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
            return this;
        }

        /** Adds a server interceptor, in order, around every handler of this node. */
        public Builder serverInterceptor(ServerInterceptor interceptor) {
            serverInterceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
            return this;
        }

        /**
         * Starts the monitor on this node: the dashboard at {@code /}, the JSON API, {@code /metrics}
         * and health checks, on 127.0.0.1:{@code port} (9999 by convention; 0 picks a free one).
         */
        public Builder monitor(int port) {
            this.monitor = MonitorOptions.port(port);
            return this;
        }

        /** Starts the monitor with these options (address, port, bearer token, refresh). */
        public Builder monitor(MonitorOptions options) {
            this.monitor = Objects.requireNonNull(options, "monitor options");
            return this;
        }

        /**
         * Records this node's meters in {@code registry} (borrowed, never closed by the node);
         * default a Prometheus registry of the node's own, which the monitor's {@code /metrics} shows.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
            return this;
        }

        /**
         * Traces calls (client and server spans, W3C context in the call metadata) and messages
         * (producer and consumer spans, context in the headers) with {@code openTelemetry}; default
         * no tracing.
         */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /** Adds a codec (content type) to this node's client and server. */
        public Builder codec(Codec codec) {
            codecs.add(Objects.requireNonNull(codec, "codec"));
            return this;
        }

        /** A blocking handler (virtual thread per call). */
        public <Q, R extends MessageLite> Builder handle(String method, Parser<Q> parser, Handler<Q, R> handler) {
            handlers.add(s -> s.handle(method, parser, handler));
            return this;
        }

        /** A non-blocking handler (inline on the event loop; must never block). */
        public <Q, R extends MessageLite> Builder handleAsync(String method, Parser<Q> parser, AsyncHandler<Q, R> handler) {
            handlers.add(s -> s.handleAsync(method, parser, handler));
            return this;
        }

        /** A bidirectional stream handler (virtual thread per stream). */
        public <Q, R extends MessageLite> Builder handleStream(String method, Parser<Q> parser,
                                                               io.braid.api.StreamHandler<Q, R> handler) {
            handlers.add(s -> s.handleStream(method, parser, handler));
            return this;
        }

        public Builder handleBytes(String method, Handler<byte[], byte[]> handler) {
            handlers.add(s -> s.handleBytes(method, handler));
            return this;
        }

        /**
         * Starts the node: control plane, RPC server, registration, election. On failure everything
         * started so far is closed again and the failure is thrown.
         */
        public Braid start() {
            if (service == null) {
                throw new IllegalStateException("service is required");
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
            String id = nodeId != null ? nodeId : service + "-" + UUID.randomUUID().toString().substring(0, 8);
            beforeStartHooks.forEach(Runnable::run);
            Monitoring.Builder monitorSettings = Monitoring.builder(service, id);
            if (monitor != null) {
                monitorSettings.http(monitor);
            }
            if (meterRegistry != null) {
                monitorSettings.meterRegistry(meterRegistry);
            }
            if (openTelemetry != null) {
                monitorSettings.openTelemetry(openTelemetry);
            }
            Monitoring monitoring = monitorSettings.build();
            Deque<AutoCloseable> started = new ArrayDeque<>();
            try {
                EventLoopGroup group = Transports.newGroup(ioThreads, "braid-" + id);
                started.push(() -> group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly());

                Discover discover;
                Elector elector;
                RedisConnector connector = redis;
                if (connector == null && redisUri != null) {
                    connector = RedisConnector.connect(redisUri, redisCommandTimeout, redisTls);
                    started.push(connector);
                } else if (connector == null && redisClusterUris != null) {
                    connector = RedisConnector.connectCluster(redisClusterUris, redisCommandTimeout, redisTls);
                    started.push(connector);
                }
                InMemoryControlPlane memory = connector == null ? (plane != null ? plane : InMemoryControlPlane.named("default")) : null;
                if (connector != null) {
                    discover = RedisDiscover.builder(connector).heartbeat(heartbeat).ttl(ttl).build();
                } else {
                    discover = new InMemoryDiscover(memory.membership());
                }
                started.push(discover);

                LinkCache links = connector != null
                        ? RedisLinkCache.builder(connector).nearCache(nearCache)
                                .listener(monitoring.linkCacheListener()).build()
                        : new InMemoryLinkCache(memory.links(), monitoring.linkCacheListener());
                started.push(links);

                Pubsub pubsub = connector != null
                        ? RedisPubsub.builder(connector).consumerName(id).listener(monitoring.pubsubListener()).build()
                        : new InMemoryPubsub(memory.streams(), id, monitoring.pubsubListener());
                started.push(pubsub);
                ClusterEvents events = new ClusterEvents(pubsub);

                RpcClient.Builder clientSettings = RpcClient.builder().discover(discover).linkCache(links).nodeId(id)
                        .eventLoopGroup(group).defaultTimeout(defaultTimeout).shutdownGrace(shutdownGrace);
                if (clientTls != null) {
                    clientSettings.tls(clientTls);
                }
                clientSettings.intercept(monitoring.clientInterceptor()); // first: it times and traces the whole call
                clientInterceptors.forEach(clientSettings::intercept);
                codecs.forEach(clientSettings::codec);
                RpcClient client = clientSettings.build();
                started.push(client);

                RpcServer.Builder serverSettings = RpcServer.builder().host(bindHost != null ? bindHost : host)
                        .port(rpcPort).eventLoopGroup(group).shutdownGrace(shutdownGrace);
                if (serverTls != null) {
                    serverSettings.tls(serverTls);
                }
                serverSettings.intercept(monitoring.serverInterceptor()); // first: the trace is current for the rest
                serverInterceptors.forEach(serverSettings::intercept);
                codecs.forEach(serverSettings::codec);
                if (discover instanceof RedisDiscover redisDiscover) {
                    // Self-fencing: stop serving players before the cluster could give them to another node.
                    Duration fenceAfter = ttl.minus(heartbeat.compareTo(ttl.dividedBy(3)) > 0 ? heartbeat : ttl.dividedBy(3));
                    serverSettings.tokenGate(() -> redisDiscover.sinceLastHeartbeat().compareTo(fenceAfter) < 0);
                }
                RpcServer server = serverSettings.build();
                monitoring.handlers().forEach(server::handleBytes); // braid.stats, braid.drain, braid.weight
                handlers.forEach(h -> h.accept(server));
                server.start();
                started.push(server);

                Node node = new Node(id, service, host, server.port(), weight, NodeState.ACTIVE, metadata);
                discover.register(node);
                started.push(() -> discover.deregister(id));

                elector = connector != null
                        ? RedisElector.builder(connector).service(service).nodeId(id).lease(lease).build()
                        : new InMemoryElector(memory.elections(), service, id);
                started.push(elector);

                // When a node is gone: every node drops its cached links to it; the leader of its
                // service removes those links once, so its players get a new owner.
                Elector leaderCheck = elector;
                started.push(discover.watch(event -> {
                    if (event.node().service().equals(service) && leaderCheck.isLeader()) {
                        events.discover(event);
                    }
                    if (event.type() != DiscoverEvent.Type.REMOVED) {
                        return;
                    }
                    links.forgetNode(event.node().id());
                    if (event.node().service().equals(service) && leaderCheck.isLeader()) {
                        links.downAsync(event.node()).whenComplete((count, failure) -> {
                            if (failure != null) {
                                log.warn("leader {} could not clear the links of gone node {}", id, event.node().id(), failure);
                            } else {
                                log.info("leader {} cleared {} links of gone node {}", id, count, event.node().id());
                            }
                        });
                    }
                }));

                started.push(elector.onChange(role -> events.role(service, id, role, leaderCheck.epoch())));

                // The leader's chore: cut topics below what their slowest channel still needs.
                java.util.concurrent.ScheduledExecutorService chores = java.util.concurrent.Executors
                        .newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("braid-chores-" + id).factory());
                started.push(chores::shutdownNow);
                chores.scheduleWithFixedDelay(() -> {
                    if (leaderCheck.isLeader()) {
                        PubsubChores.trim(pubsub);
                    }
                }, trimInterval.toMillis(), trimInterval.toMillis(), TimeUnit.MILLISECONDS);

                log.info("braid node {} of {} started at {} ({})", id, service, node.address(),
                        connector != null ? connector.description() : "in-memory cluster " + memory.name());
                Pubsub traced = monitoring.traced(pubsub); // what users see: publishes and deliveries traced
                for (Subscriber subscriber : subscribers) {
                    io.braid.api.Channel channel = traced.topic(subscriber.topic())
                            .subscribe(subscriber.channel(), subscriber.options());
                    started.push(channel);
                    channel.onMessage(subscriber.handler());
                }

                Braid braid = new Braid(node, server, client, discover, elector, new AnnouncingLinkCache(links, events),
                        traced, monitoring, drainTimeout, started);
                braid.beforeStop = List.copyOf(beforeStopHooks);
                braid.afterStop = List.copyOf(afterStopHooks);
                // Last to start, first to close: the monitor stops before the node deregisters.
                monitoring.start(new MonitoredNode(braid, links, pubsub), group, clientTls);
                started.push(monitoring);
                afterStartHooks.forEach(hook -> hook.accept(braid));
                return braid;
            } catch (RuntimeException e) {
                while (!started.isEmpty()) {
                    try {
                        started.pop().close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                monitoring.close();
                throw e;
            }
        }
    }
}
