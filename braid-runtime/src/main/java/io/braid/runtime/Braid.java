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
 * <p>Two {@code Braid} instances in one JVM are two nodes. {@link #close()} fences the node first
 * (token calls get UNAVAILABLE from then on), leaves the election, lets calls in flight finish
 * (GoAway, up to {@code shutdownGrace}), and only then deregisters, so the cluster does not hand the
 * node's players to another node while their calls still run here; then it closes everything else
 * in reverse start order. It is idempotent. Thread-safe.
 *
 * <p>Errors: the calls that return a future ({@code invoke}, {@link #drain()}) report a bad argument
 * or a failure through the future, as a {@link BraidException} ({@code INVALID_ARGUMENT} naming the
 * argument); synchronous calls throw it.
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
    /** Set first thing in close(): token calls are refused from then on (see the token gate). */
    private final SelfFence fence;
    /** The drain under way, or null; a drain that could not start is cleared again. */
    private final java.util.concurrent.atomic.AtomicReference<CompletableFuture<Void>> drained =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** Serialises changes of this node's record (weight, state) with their registration, so they reach discovery in order. */
    private final java.util.concurrent.locks.ReentrantLock recordChanges = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private List<Consumer<Braid>> beforeStop = List.of();
    private List<Runnable> afterStop = List.of();

    private Braid(Node node, RpcServer server, RpcClient client, Discover discover, Elector elector, LinkCache links,
                  Pubsub pubsub, Monitoring monitoring, Duration drainTimeout, Deque<AutoCloseable> closeOrder,
                  SelfFence fence) {
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
        this.fence = fence;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** This node as the cluster sees it. */
    public Node node() {
        return node;
    }

    /**
     * Calls {@code method} of service {@code target}; an empty {@code token} is a stateless call, any
     * other goes to the token's owner. A bad argument (blank target or method, null token, request
     * or parser) fails the future with {@code BraidException(INVALID_ARGUMENT)} naming it.
     */
    public <R> CompletableFuture<R> invoke(String target, String method, String token, MessageLite request,
                                           Parser<R> responseParser) {
        return invoke(target, method, token, request, responseParser, CallOptions.DEFAULT);
    }

    /** {@link #invoke(String, String, String, MessageLite, Parser)} with these call options (not null). */
    public <R> CompletableFuture<R> invoke(String target, String method, String token, MessageLite request,
                                           Parser<R> responseParser, CallOptions options) {
        BraidException bad = badCall(target, method, token, request);
        if (bad == null && responseParser == null) {
            bad = invalid("responseParser must not be null");
        }
        if (bad == null && options == null) {
            bad = invalid("options must not be null");
        }
        return bad != null ? CompletableFuture.failedFuture(bad)
                : client.invoke(target, method, token, request, responseParser, options);
    }

    /** A call with raw bytes in and out; bad arguments fail the future as above. */
    public CompletableFuture<byte[]> invoke(String target, String method, String token, byte[] request) {
        BraidException bad = badCall(target, method, token, request);
        return bad != null ? CompletableFuture.failedFuture(bad) : client.invoke(target, method, token, request);
    }

    private static BraidException badCall(String target, String method, String token, Object request) {
        if (target == null || target.isBlank()) {
            return invalid("target must not be blank, was " + (target == null ? "null" : "'" + target + "'"));
        }
        if (method == null || method.isBlank()) {
            return invalid("method must not be blank, was " + (method == null ? "null" : "'" + method + "'"));
        }
        if (token == null) {
            return invalid("token must not be null (use \"\" for a stateless call)");
        }
        if (request == null) {
            return invalid("request must not be null");
        }
        return null;
    }

    private static BraidException invalid(String message) {
        return new BraidException(io.braid.api.Code.INVALID_ARGUMENT, message);
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
     *
     * @throws BraidException INVALID_ARGUMENT for a weight out of range; UNAVAILABLE when discovery
     *     cannot take the change (the node keeps its old weight)
     */
    public void weight(int weight) {
        if (weight < 0 || weight > Node.MAX_WEIGHT) {
            throw invalid("weight must be in 0.." + Node.MAX_WEIGHT + ", was " + weight);
        }
        changeRecord(current -> current.withWeight(weight));
    }

    /**
     * Changes this node's record and registers it, one change at a time, so two changes (a weight
     * and a drain) reach discovery in the order they were made. If discovery refuses the change,
     * the node keeps its old record and the failure is thrown. The lock guards only this node's own
     * record, and is held while discovery writes it: ordering the writes is its whole purpose.
     */
    private Node changeRecord(java.util.function.UnaryOperator<Node> change) {
        recordChanges.lock();
        try {
            Node before = node;
            Node after = change.apply(before);
            discover.register(after);
            node = after;
            return after;
        } finally {
            recordChanges.unlock();
        }
    }

    /** The topic of this name (a shortcut for {@code pubsub().topic(name)}). */
    public Topic topic(String name) {
        return pubsub.topic(name);
    }

    /**
     * Empties this node without kicking players: it turns DRAINING (no new links, no stateless
     * calls), keeps serving the tokens linked to it until they unlink or the drain timeout passes,
     * then closes. The future completes when the node is closed; calling again while a drain is
     * under way returns the same future. {@link #close()} during a drain ends it at once (the future
     * completes when the close has finished).
     *
     * <p>If DRAINING cannot be announced (Redis down), the future fails with that
     * {@code BraidException} (UNAVAILABLE) within the registration timeout, the node stays ACTIVE and
     * running, and {@code drain()} may be asked again. Never throws.
     */
    public CompletableFuture<Void> drain() {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = drained.compareAndExchange(null, mine);
        if (running != null) {
            return running;
        }
        if (closed.get()) {
            mine.complete(null);
            return mine;
        }
        try {
            changeRecord(current -> current.withState(NodeState.DRAINING));
        } catch (RuntimeException e) {
            BraidException failure = BraidException.from(e);
            log.warn("braid node {}: cannot announce DRAINING ({}); it stays ACTIVE", node.id(), failure.getMessage());
            drained.compareAndSet(mine, null); // a later drain() may try again
            mine.completeExceptionally(failure);
            return mine;
        }
        log.info("braid node {} draining (up to {})", node.id(), drainTimeout);
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        Thread.ofPlatform().daemon().name("braid-drain-" + node.id()).start(() -> {
            try {
                waitForPlayersToLeave(deadline);
            } catch (InterruptedException e) {
                log.warn("braid node {}: drain interrupted; closing now", node.id());
            } catch (RuntimeException e) {
                log.warn("braid node {}: drain failed; closing now", node.id(), e);
            }
            close(); // completes the future once the node is closed (here or on the thread already closing it)
        });
        return mine;
    }

    private void waitForPlayersToLeave(long deadline) throws InterruptedException {
        boolean countFailing = false;
        while (System.nanoTime() - deadline < 0 && !closed.get()) {
            try {
                long left = links.linkCountAsync(node.id()).get(1, TimeUnit.SECONDS);
                if (left == 0) {
                    return;
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
    }

    /**
     * Closes the node, in this order: fence (token calls get UNAVAILABLE from now on), the
     * {@code beforeStop} hooks, the monitor, subscriptions and chores, the election (a follower
     * takes over), the RPC server (GoAway, calls in flight finish within {@code shutdownGrace}),
     * then deregistration, and the client, pub-sub, link cache, discovery and Redis last. A drain
     * under way ends, and its future completes, when this returns. Idempotent; a second call while
     * the first is still closing returns at once.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        fence.close();
        try {
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
        } finally {
            stopped.countDown();
            CompletableFuture<Void> drain = drained.get();
            if (drain != null) {
                drain.complete(null);
            }
        }
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
     * The main loop of a game server process (go-micro's Service.Run): blocks until the node is
     * closed, and returns, so {@code main} can end with exit code 0. The first SIGTERM or SIGINT
     * {@linkplain #drain() drains}; if the drain cannot start (Redis down) the node closes instead,
     * since the process was asked to stop. A second signal closes at once. {@link #close()} (or a
     * drain that finished) from anywhere else releases it too. The signal handlers it installs are
     * put back as they were when it returns.
     */
    public void run() throws InterruptedException {
        java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
        try (AutoCloseable handlers = Signals.onTermination(name -> {
            int count = signals.incrementAndGet();
            log.info("braid node {}: SIG{} {}", node.id(), name, count == 1 ? "- draining" : "again - closing now");
            if (count == 1) {
                drain().whenComplete((ok, failure) -> {
                    if (failure != null) {
                        log.warn("braid node {}: asked to stop but cannot drain ({}); closing", node.id(),
                                failure.getMessage());
                        closeInBackground();
                    }
                });
            } else {
                closeInBackground();
            }
        })) {
            log.info("braid node {} running until SIGTERM or SIGINT", node.id());
            stopped.await();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            log.warn("braid node {}: cannot restore the signal handlers", node.id(), e);
        }
    }

    private void closeInBackground() {
        Thread.ofPlatform().daemon().name("braid-close-" + node.id()).start(this::close);
    }

    /** How long a pub-sub channel's read blocks waiting for messages (XREADGROUP BLOCK), in ms. */
    static final long PUBSUB_BLOCK_MILLIS = 500;

    /**
     * The leader's chore when a node of its service is gone: remove its links, so its players get a
     * new owner. The store is asked first: a node that is registered again by now (a view that
     * lagged, or Redis that lost the record and got it back) keeps its players. (Were it cleared
     * anyway, the node hears it and fences itself: see {@link Ownership#nodeCleared}.)
     */
    private static void clearLinksOfGoneNode(String leaderId, Discover discover, LinkCache links, Node gone) {
        discover.refresh(gone.service()).thenCompose(nodes -> {
            if (nodes.stream().anyMatch(n -> n.id().equals(gone.id()))) {
                log.info("leader {} keeps the links of {}: it is registered again", leaderId, gone.id());
                return CompletableFuture.completedFuture(-1L);
            }
            return links.downAsync(gone);
        }).whenComplete((count, failure) -> {
            if (failure != null) {
                log.warn("leader {} could not clear the links of gone node {}", leaderId, gone.id(), failure);
            } else if (count >= 0) {
                log.info("leader {} cleared {} links of gone node {}", leaderId, count, gone.id());
            }
        });
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

        /**
         * Discovery heartbeat and record TTL (Redis); defaults 1 s and 3 s. {@link #start()} refuses
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
         * {@link #start()} refuses less than twice pub-sub's blocking read (500 ms): a channel's XREADGROUP waits that long for messages and must still come back, with its
         * round trip, inside the command timeout, or every idle read would fail as a timeout.
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
         * The rules between settings that are each legal alone; checked before anything starts. The
         * elector's own builder checks lease against its renewal when the election starts.
         */
        private void checkCombinedSettings() {
            if (heartbeat.compareTo(ttl.dividedBy(3)) > 0) {
                throw new IllegalStateException("heartbeat (" + heartbeat + ") must be at most ttl/3 (" + ttl.dividedBy(3)
                        + " for ttl " + ttl + "): the node fences itself after ttl - ttl/3 (" + SelfFence.window(ttl)
                        + ") without a confirmed heartbeat, and needs the rest of that window for one heartbeat's"
                        + " round trip, or a healthy node refuses token calls at every heartbeat");
            }
            Duration block = Duration.ofMillis(PUBSUB_BLOCK_MILLIS);
            if (redisCommandTimeout.compareTo(block.multipliedBy(2)) < 0) {
                throw new IllegalStateException("redisCommandTimeout (" + redisCommandTimeout + ") must be at least "
                        + block.multipliedBy(2) + ", twice pub-sub's blocking read (" + block + "): a blocking read"
                        + " that outlasts the command timeout fails on every idle channel");
            }
        }

        /**
         * Starts the node: control plane, RPC server, registration, election. On failure everything
         * started so far is closed again and the failure is thrown.
         */
        public Braid start() {
            if (service == null) {
                throw new IllegalStateException("service is required");
            }
            checkCombinedSettings();
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

                // Self-fencing: stop serving players before the cluster could give them to another node,
                // and from the moment close() begins; and refuse a player the moment it was given away.
                SelfFence fence = discover instanceof RedisDiscover redisDiscover
                        ? SelfFence.of(redisDiscover, heartbeat, ttl) : SelfFence.inMemory();
                Ownership ownership = new Ownership(fence, id, service);
                LinkCache links = connector != null
                        ? RedisLinkCache.builder(connector).nearCache(nearCache)
                                .listener(monitoring.linkCacheListener()).watcher(ownership).build()
                        : new InMemoryLinkCache(memory.links(), monitoring.linkCacheListener(), ownership);
                started.push(links);
                if (discover instanceof RedisDiscover redisDiscover && links instanceof RedisLinkCache redisLinks) {
                    // A lapse is how a node sees Redis lose data (its record gone): the links it lost
                    // published no invalidation, so the near cache must not vouch for them.
                    redisDiscover.onRegistrationLapse(redisLinks::storeLostData);
                }

                Pubsub pubsub = connector != null
                        ? RedisPubsub.builder(connector).consumerName(id).block(Duration.ofMillis(PUBSUB_BLOCK_MILLIS))
                                .listener(monitoring.pubsubListener()).build()
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
                serverSettings.tokenGate(ownership);
                RpcServer server = serverSettings.build();
                monitoring.handlers().forEach(server::handleBytes); // braid.stats, braid.drain, braid.weight
                handlers.forEach(h -> h.accept(server));
                server.start();
                started.push(server);
                ownership.recheckWith(server::openStreamTokens, links);

                Node node = new Node(id, service, host, server.port(), weight, NodeState.ACTIVE, metadata);
                discover.register(node);
                // The server closes (its calls in flight finish) before the node deregisters: while a
                // call runs here the cluster must not hand its player to another node.
                started.pop();
                started.push(() -> discover.deregister(id));
                started.push(server);

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
                        clearLinksOfGoneNode(id, discover, links, event.node());
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
                        traced, monitoring, drainTimeout, started, fence);
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
