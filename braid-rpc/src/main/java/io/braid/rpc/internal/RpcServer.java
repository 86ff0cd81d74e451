package io.braid.rpc.internal;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.AsyncHandler;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Handler;
import io.braid.api.Server;
import io.braid.api.Ticker;
import io.braid.api.internal.Checks;
import io.braid.rpc.internal.lane.LaneTask;
import io.braid.rpc.internal.lane.Lanes;
import io.braid.api.internal.TokenGate;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The braid RPC server: a Netty listener that serves registered methods over braid's framed
 * protobuf protocol. Build with {@link #builder()}, register handlers (before or after
 * {@link #start()}), start, and close.
 *
 * <p>Blocking handlers ({@link #handle}) run on virtual threads, never on an event loop: a call is
 * taken by a handler thread waiting for one, else by a new one, so it never waits for a busy thread,
 * and under load a few threads serve many calls ({@link HandlerThreads});
 * non-blocking ones ({@link #handleAsync}) run inline on the event loop. Shutdown is graceful:
 * {@link #shutdown(Duration)} stops accepting, sends GoAway on every connection (the client sends
 * new calls elsewhere), lets calls in flight finish within the grace period, then closes.
 *
 * <p>This class is the API and the lifecycle; the work is done by {@link ServerChannelInitializer}
 * (each connection's pipeline), {@link MethodRegistry}, {@link ServerConnections} (stream-token
 * queries, drain) and {@link FenceSweep} (the token gate's periodic check).
 *
 * <p>Thread-safe. {@link #close()} is idempotent and waits for the shutdown.
 */
public final class RpcServer implements Server, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RpcServer.class);

    private final ServerOptions options;
    private final MethodRegistry methods = new MethodRegistry();
    private final ServerConnections connections = new ServerConnections();
    private final Lanes lanes;
    private final AtomicReference<CompletableFuture<Void>> shutdown = new AtomicReference<>();
    private volatile ServerResources resources;
    private Channel listener;
    private volatile ConnectionLimiter limiter;
    private volatile boolean started;
    private volatile FenceSweep fenceSweep;

    private RpcServer(ServerOptions options) {
        this.options = options;
        this.lanes = new Lanes(options.maxLaneDepth(), options.laneListener(), options.ticker());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this server's settings (changing it changes nothing here). */
    public Builder newBuilder() {
        return new Builder(options);
    }

    /** The settings this server was built with. */
    public ServerOptions options() {
        return options;
    }

    @Override
    public <Q, R extends MessageLite> void handle(String method, Parser<Q> requestParser, Handler<Q, R> handler) {
        methods.register(MethodHandler.blocking(method, requestParser, handler));
    }

    @Override
    public <Q, R extends MessageLite> void handleAsync(String method, Parser<Q> requestParser,
                                                      AsyncHandler<Q, R> handler) {
        methods.register(MethodHandler.async(method, requestParser, handler));
    }

    /**
     * Registers a blocking handler whose calls with a token run in their token's lane: one call of
     * a token at a time, in arrival order, each on a virtual thread as with {@link #handle}; different tokens in
     * parallel. Calls without a token run as with {@link #handle}. What a caller may see besides
     * the usual: RESOURCE_EXHAUSTED when {@link Builder#maxLaneDepth} calls already wait in the
     * token's lane; FAILED_PRECONDITION at once when the call was made, directly or through other
     * calls, by a handler holding that same lane (it would wait for itself); DEADLINE_EXCEEDED,
     * without running, when the deadline passes while it waits; UNAVAILABLE, without running, when
     * the server shuts down while it waits. Internal API for now: the player API will sit on it.
     */
    public <Q, R extends MessageLite> void handleInLane(String method, Parser<Q> requestParser, Handler<Q, R> handler) {
        methods.register(MethodHandler.blocking(method, requestParser, handler, true));
    }

    /**
     * Registers a non-blocking handler whose calls with a token run in their token's lane, as
     * {@link #handleInLane}; its turn lasts until the stage it returns completes, so a stage that
     * never completes holds its token's lane until the server closes. It runs inline on the event
     * loop that read the request when its lane is free, else on that loop when its turn comes.
     */
    public <Q, R extends MessageLite> void handleAsyncInLane(String method, Parser<Q> requestParser,
                                                             AsyncHandler<Q, R> handler) {
        methods.register(MethodHandler.async(method, requestParser, handler, true));
    }

    /**
     * Runs {@code task} in {@code token}'s lane, as one piece of its work: after the call or task
     * holding the turn now and those waiting before it, and before any that arrive later; on a thread
     * of the blocking executor. For work of a token that is not a call (a player's timer or its
     * deactivation). The future completes when the task has run, exceptionally with what it threw;
     * it fails at once with UNAVAILABLE when the server has not started or is shutting down, and with
     * RESOURCE_EXHAUSTED when {@link Builder#maxLaneDepth} pieces already wait in the lane. Thread-safe.
     */
    public CompletableFuture<Void> runInLane(String token, Runnable task) {
        ServerResources running = resources;
        if (running == null || shutdown.get() != null) {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "server of node "
                    + options.nodeId() + " is " + (running == null ? "not started" : "shutting down")));
        }
        LaneTask work = new LaneTask(task, running.blockingExecutor());
        try {
            if (lanes.enter(token, work)) {
                work.takeTurn();
            }
        } catch (BraidException refused) {
            return CompletableFuture.failedFuture(refused);
        }
        return work.done();
    }

    /** Tokens with a lane now: a call of theirs runs or waits in it (an idle lane is removed). */
    public int laneCount() {
        return lanes.size();
    }

    /** Calls waiting in {@code token}'s lane now, behind the one running (for tests). */
    public int laneWaiting(String token) {
        return lanes.waiting(token);
    }

    /** The id that names this server in the lane chain calls carry (see {@link Builder#nodeId}). */
    public String nodeId() {
        return options.nodeId();
    }

    @Override
    public <Q, R extends MessageLite> void handleStream(String method, Parser<Q> requestParser,
                                                       io.braid.api.StreamHandler<Q, R> handler) {
        methods.register(MethodHandler.stream(method, requestParser, handler));
    }

    @Override
    public void handleBytes(String method, Handler<byte[], byte[]> handler) {
        methods.register(MethodHandler.bytes(method, handler));
    }

    @Override
    public Set<String> methods() {
        return methods.names();
    }

    /** Binds the listener; returns once it accepts connections. */
    public synchronized RpcServer start() {
        if (shutdown.get() != null) {
            throw new IllegalStateException("server is shut down");
        }
        if (started) {
            throw new IllegalStateException("server is already started");
        }
        resources = new ServerResources(options);
        EventLoopGroup group = resources.group();
        ServerConfig config = new ServerConfig(methods, resources.blockingExecutor(), options.maxFrameBytes(),
                options.maxInFlightPerConnection(), options.maxDeadline(), options.idleTimeout(), options.tokenGate(),
                new CodecRegistry(options.codecs()), options.interceptors(), options.ticker(), lanes,
                options.nodeId());
        ConnectionLimiter limiter = new ConnectionLimiter(options.maxConnections(), options.ticker());
        this.limiter = limiter;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(Transports.serverChannel(group))
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ServerChannelInitializer(options, config, limiter, connections));
        try {
            listener = bootstrap.bind(options.host(), options.port()).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            releaseResources();
            throw new BraidException(Code.UNAVAILABLE,
                    "cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        started = true;
        if (options.tokenGate() != null) {
            ScheduledExecutorService sweeper = options.scheduler() != null ? options.scheduler() : group.next();
            fenceSweep = FenceSweep.start(options.tokenGate(), connections, options.fenceCheckInterval(), sweeper);
        }
        log.info("braid rpc server listening on {}:{}{}", options.host(), port(), options.tls() != null ? " (TLS)" : "");
        return this;
    }

    /**
     * The tokens of the streams open on this server now (each once): what an owner re-checks when it
     * may have missed a change of its players' links. Completes on an event loop.
     */
    public CompletableFuture<Set<String>> openStreamTokens() {
        return connections.openStreamTokens();
    }

    /**
     * Ends the streams open on this server for {@code token} now, UNAVAILABLE with {@code why}
     * (calls are not touched): what an owner does when a player's link is removed, so work that
     * was routed here before stops, while the player's next call may come here again. Any thread.
     */
    public void endTokenStreams(String token, String why) {
        connections.endTokenStreams(token, why);
    }

    /** The port the server listens on (the one chosen by the OS when built with port 0). */
    public int port() {
        if (!started) {
            throw new IllegalStateException("server is not started");
        }
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    public String host() {
        return options.host();
    }

    /** Open client connections right now. */
    public int connectionCount() {
        return connections.count();
    }

    /** Connections refused since start because the server held {@code maxConnections} already. */
    public long rejectedConnectionCount() {
        ConnectionLimiter current = limiter;
        return current == null ? 0 : current.rejected();
    }

    /**
     * Graceful shutdown: stop accepting, GoAway on every connection, wait up to {@code grace} for
     * calls in flight, then close what is left. Idempotent: later calls return the same future.
     */
    public CompletableFuture<Void> shutdown(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!shutdown.compareAndSet(null, done)) {
            return shutdown.get();
        }
        lanes.close(); // calls waiting in a lane never started: UNAVAILABLE, safe to try again
        if (!started) {
            releaseResources();
            done.complete(null);
            return done;
        }
        // GoAway goes out before shutdown() returns (unless called on an event loop), so a request a
        // client sends after this returns is never served here: the client retries it elsewhere.
        boolean onEventLoop = listener.eventLoop().inEventLoop();
        io.netty.channel.ChannelFuture stopped = listener.close();
        if (!onEventLoop) {
            stopped.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        connections.drain(grace, !onEventLoop).whenComplete((ignored, failure) -> {
            Runnable release = () -> {
                releaseResources();
                done.complete(null);
            };
            if (options.scheduler() != null) {
                options.scheduler().execute(release);
            } else {
                Thread.ofPlatform().name("braid-rpc-server-close").daemon().start(release);
            }
        });
        return done;
    }

    private void releaseResources() {
        if (fenceSweep != null) {
            fenceSweep.stop();
        }
        if (resources != null) {
            resources.release();
        }
    }

    /** Shuts down with the builder's grace period and waits for it. Idempotent. */
    @Override
    public void close() {
        shutdown(options.shutdownGrace()).join();
    }

    /** Settings of a server; every setter validates at once. */
    public static final class Builder {
        public static final int DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
        public static final int DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 65_536;
        public static final Duration DEFAULT_MAX_DEADLINE = Duration.ofMinutes(1);
        public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(2);
        public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);
        public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
        public static final Duration DEFAULT_FRAME_READ_TIMEOUT = Duration.ofSeconds(30);
        public static final Duration DEFAULT_FENCE_CHECK_INTERVAL = Duration.ofMillis(100);
        public static final int DEFAULT_MAX_LANE_DEPTH = 256;

        private String host = "0.0.0.0";
        private int port;
        private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
        private int maxInFlightPerConnection = DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION;
        private Duration maxDeadline = DEFAULT_MAX_DEADLINE;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration shutdownGrace = DEFAULT_SHUTDOWN_GRACE;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private Duration frameReadTimeout = DEFAULT_FRAME_READ_TIMEOUT;
        private int ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private EventLoopGroup group;
        private Executor blockingExecutor;
        private SslContext tls;
        private TokenGate tokenGate;
        private Duration fenceCheckInterval = DEFAULT_FENCE_CHECK_INTERVAL;
        private final List<io.braid.api.Codec> codecs = new ArrayList<>();
        private final List<io.braid.api.ServerInterceptor> interceptors = new ArrayList<>();
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;
        private String nodeId = "rpc-server-" + java.util.UUID.randomUUID();
        private int maxLaneDepth = DEFAULT_MAX_LANE_DEPTH;
        private io.braid.api.internal.LaneListener laneListener = io.braid.api.internal.LaneListener.NONE;

        private Builder() {
        }

        private Builder(ServerOptions from) {
            host = from.host();
            port = from.port();
            maxFrameBytes = from.maxFrameBytes();
            maxInFlightPerConnection = from.maxInFlightPerConnection();
            maxDeadline = from.maxDeadline();
            idleTimeout = from.idleTimeout();
            shutdownGrace = from.shutdownGrace();
            maxConnections = from.maxConnections();
            frameReadTimeout = from.frameReadTimeout();
            ioThreads = from.ioThreads();
            group = from.group();
            blockingExecutor = from.blockingExecutor();
            tls = from.tls();
            tokenGate = from.tokenGate();
            fenceCheckInterval = from.fenceCheckInterval();
            codecs.addAll(from.codecs());
            interceptors.addAll(from.interceptors());
            ticker = from.ticker();
            scheduler = from.scheduler();
            nodeId = from.nodeId();
            maxLaneDepth = from.maxLaneDepth();
            laneListener = from.laneListener();
        }

        /**
         * Hears the server's token lanes: each entry's depth, each turn's wait and run (timed by the
         * {@link #ticker}), for metrics; default {@code LaneListener.NONE}, for which no clock is read.
         */
        public Builder laneListener(io.braid.api.internal.LaneListener listener) {
            this.laneListener = Objects.requireNonNull(listener, "laneListener");
            return this;
        }

        /**
         * This server's node id (braid's runtime passes the node's own); default a random one. It names
         * the server's lanes in the lane chain a call carries, so that a call back into a token's lane
         * is refused on the node that holds it and not on another.
         */
        public Builder nodeId(String nodeId) {
            this.nodeId = Checks.notBlank(nodeId, "nodeId");
            return this;
        }

        /**
         * Calls that may wait in one token's lane behind the one running, 1..1,000,000; default 256.
         * One more is refused RESOURCE_EXHAUSTED at once; other tokens do not notice.
         */
        public Builder maxLaneDepth(int maxLaneDepth) {
            this.maxLaneDepth = Checks.inRange(maxLaneDepth, 1, 1_000_000, "maxLaneDepth");
            return this;
        }

        /**
         * The clock of the server's timing policies (call deadlines, the frame-read timeout, the
         * connection limiter's log pacing); default {@link Ticker#system()}. Timers still fire on real
         * time: a test moves the ticker to make a policy see time pass.
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Runs the token gate's sweep and the final release of resources at shutdown (borrowed, never
         * shut down by the server, so it must outlive it: {@link RpcServer#close()} waits for that release);
         * default an event loop for the sweep and a short-lived thread for the release.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** Adds a server interceptor; they run in the order added, around every handler. */
        public Builder intercept(io.braid.api.ServerInterceptor interceptor) {
            interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
            return this;
        }

        /** Adds a codec for its content type, next to the built-in protobuf, JSON and raw ones. */
        public Builder codec(io.braid.api.Codec codec) {
            codecs.add(Objects.requireNonNull(codec, "codec"));
            return this;
        }

        /**
         * The owner-side fence: work for a token is done only while {@code gate} admits it (see
         * {@link TokenGate}). The runtime uses it to fence a node that cannot confirm its
         * registration, so it stops acting for its players before the cluster gives them to another
         * node, and to refuse a player that was given to another node. While the gate refuses a token:
         * <ul>
         *   <li>a call or stream with a token is refused UNAVAILABLE, and so is one admitted while the
         *       gate was open that has not started yet (a blocking handler waiting for its thread);
         *       a call's refusal of a token given to another node (the gate open) carries the
         *       response metadata {@code braid-moved} ({@link io.braid.api.internal.NotServedHere},
         *       naming {@link TokenGate#movedTo} when the gate knows it), so the client sends the call
         *       on; the self-fencing refusal (the gate closed) does not;
         *   <li>an open stream with a token hands its handler no message, not even one it received
         *       before the gate closed, and its handler may write none: the stream ends UNAVAILABLE at
         *       the first such attempt;
         *   <li>every open stream with a token ends UNAVAILABLE, whether or not a message comes, within
         *       {@link #fenceCheckInterval} of the gate closing or its revocations moving (plus one hop
         *       to its event loop).
         * </ul>
         * Calls and streams without a token are never fenced; a handler already running is not
         * interrupted. The gate is asked on event loops and handler threads: it must be cheap and
         * never block; a gate that throws counts as closed.
         */
        public Builder tokenGate(TokenGate gate) {
            this.tokenGate = Objects.requireNonNull(gate, "tokenGate");
            return this;
        }

        /**
         * How often the server asks a {@link #tokenGate} whether it closed, to end the open token
         * streams that no message would otherwise reach; 1 ms..10 s, default 100 ms. The bound of a
         * self-fence on streams is this period: keep it well below the time between the gate closing
         * and the cluster giving the node's players to another node.
         */
        public Builder fenceCheckInterval(Duration interval) {
            Checks.positive(interval, "fenceCheckInterval");
            if (interval.compareTo(Duration.ofMillis(1)) < 0 || interval.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new IllegalArgumentException("fenceCheckInterval must be within 1 ms..10 s, was " + interval);
            }
            this.fenceCheckInterval = interval;
            return this;
        }

        /** Address to bind; default all interfaces. */
        public Builder host(String host) {
            this.host = Checks.notBlank(host, "host");
            return this;
        }

        /** Port to bind, 0..65535; 0 (the default) lets the OS choose. */
        public Builder port(int port) {
            this.port = Checks.inRange(port, 0, 65_535, "port");
            return this;
        }

        /** Largest frame read or written, 1 KiB..1 GiB; default 4 MiB. */
        public Builder maxFrameBytes(int maxFrameBytes) {
            this.maxFrameBytes = Checks.inRange(maxFrameBytes, 1024, (1 << 30), "maxFrameBytes");
            return this;
        }

        /** Calls served at once on one connection before new ones get RESOURCE_EXHAUSTED; default 65,536. */
        public Builder maxInFlightPerConnection(int max) {
            this.maxInFlightPerConnection = (int) Checks.atLeast(max, 1, "maxInFlightPerConnection");
            return this;
        }

        /** Longest a call may run, whatever the caller sent; default 1 minute. */
        public Builder maxDeadline(Duration maxDeadline) {
            this.maxDeadline = Checks.positive(maxDeadline, "maxDeadline");
            return this;
        }

        /** A connection that sends nothing for this long is closed; default 2 minutes. */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = Checks.positive(idleTimeout, "idleTimeout");
            return this;
        }

        /**
         * Connections held open at once, 1..1,000,000; default 10,000. One past it is closed as soon
         * as it is accepted (a reset, before TLS or any read), counted in
         * {@link RpcServer#rejectedConnectionCount()} and logged; connections already open are served on.
         */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = Checks.inRange(maxConnections, 1, 1_000_000, "maxConnections");
            return this;
        }

        /**
         * A frame begun must arrive whole within this, or the connection is closed: the cut for a
         * peer that sends a length and then dribbles the body (each byte would reset the idle
         * timeout). Default 30 s.
         */
        public Builder frameReadTimeout(Duration frameReadTimeout) {
            this.frameReadTimeout = Checks.positive(frameReadTimeout, "frameReadTimeout");
            return this;
        }

        /** How long {@link #close()} waits for calls in flight; default 10 s. */
        public Builder shutdownGrace(Duration shutdownGrace) {
            this.shutdownGrace = Checks.notNegative(shutdownGrace, "shutdownGrace");
            return this;
        }

        /** Event loop threads when the server makes its own group; default one per core. */
        public Builder ioThreads(int ioThreads) {
            this.ioThreads = (int) Checks.atLeast(ioThreads, 1, "ioThreads");
            return this;
        }

        /** A group to borrow (the server never shuts it down); default: its own. */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = Objects.requireNonNull(group, "eventLoopGroup");
            return this;
        }

        /**
         * Runs blocking handlers (borrowed, never shut down); default the server's own virtual threads,
         * each serving call after call while calls keep coming and ending 5 to 10 ms after its last one
         * ({@link HandlerThreads}).
         */
        public Builder blockingExecutor(Executor executor) {
            this.blockingExecutor = Objects.requireNonNull(executor, "blockingExecutor");
            return this;
        }

        /** Serve TLS with this server context; require client certificates in it for mutual TLS. */
        public Builder tls(SslContext serverContext) {
            Objects.requireNonNull(serverContext, "tls");
            if (serverContext.isClient()) {
                throw new IllegalArgumentException("tls needs a server SslContext, got a client one");
            }
            this.tls = serverContext;
            return this;
        }

        /** The server with these settings, copied: changing this builder later changes nothing in it. */
        public RpcServer build() {
            return new RpcServer(new ServerOptions(host, port, maxFrameBytes, maxInFlightPerConnection, maxDeadline,
                    idleTimeout, shutdownGrace, maxConnections, frameReadTimeout, ioThreads, group, blockingExecutor,
                    tls, tokenGate, fenceCheckInterval, codecs, interceptors, ticker, scheduler, nodeId, maxLaneDepth,
                    laneListener));
        }
    }
}
