package io.braid.gateway;

import io.braid.api.Ticker;
import io.braid.gateway.internal.GatewayCore;
import io.braid.gateway.internal.GatewaySettings;
import io.braid.gateway.internal.RateLimits;
import io.braid.runtime.Braid;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The player-facing front end of a gateway node: players connect over WebSocket and/or TCP, log
 * in through the {@link LoginHook}, call the routes the {@link RouteTable} allows, and receive
 * pushes that any node sends with {@link GatewayPush}. Built on a started {@link Braid} node (the
 * gateway node; its service is the gateway service):
 *
 * <pre>{@code
 * Braid node = Braid.builder().service("gateway").start();
 * Gateway gateway = Gateway.builder(node)
 *     .login((credentials, remote) -> CompletableFuture.completedFuture(checkAndGetToken(credentials)))
 *     .routes(RouteTable.of("logic.player.act"))
 *     .webSocket(8080).tcp(8081)
 *     .start();
 * }</pre>
 *
 * <p>A login binds the player's token to this gateway in the node's link cache, under the
 * gateway service; a second login of the same token, here or on another gateway, wins and kicks
 * the first (a Kicked frame, then close), and the first session's late close never unbinds the
 * second. Each player's calls are rate limited ({@link Builder#callRateLimit},
 * {@link Builder#byteRateLimit}); both front ends may serve TLS ({@link Builder#tls}). The frame
 * protocol, the session lifecycle and what is guaranteed are in the module's
 * README. {@link #close()} closes the front ends and every connection (each bound session ends
 * CLOSED and is unbound), not the node: its owner closes it, after the gateway. Thread-safe.
 */
public final class Gateway implements AutoCloseable {
    /** The topic of {@link SessionEvent}s; bodies are {@link io.braid.gateway.proto.SessionEventMessage}s. */
    public static final String SESSIONS_TOPIC = "braid.gateway.sessions";
    /** The method of the gateway service that writes a push (see {@link GatewayPush}). */
    public static final String PUSH_METHOD = "braid.gateway.push";
    /** The method of the gateway service by which a gateway claims a token's binding from its binder. */
    public static final String CLAIM_METHOD = "braid.gateway.claim";
    /** The longest token a login hook may answer. */
    public static final int MAX_TOKEN_LENGTH = 256;

    public static final int DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
    public static final int MAX_MAX_FRAME_BYTES = 16 * 1024 * 1024;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_LOGIN_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(5);
    public static final String DEFAULT_WEBSOCKET_PATH = "/ws";
    public static final int DEFAULT_IO_THREADS = 2;
    public static final Duration DEFAULT_RESUME_GRACE = Duration.ofSeconds(30);
    public static final Duration MAX_RESUME_GRACE = Duration.ofHours(1);
    public static final int DEFAULT_REPLAY_MAX_PUSHES = 1000;
    public static final int MAX_REPLAY_MAX_PUSHES = 100_000;
    public static final int DEFAULT_REPLAY_MAX_BYTES = 1024 * 1024;
    /** The replay buffer is handed over between gateways in one call, whose frames are at most 4 MiB. */
    public static final int MAX_REPLAY_MAX_BYTES = 3 * 1024 * 1024;
    public static final int DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;
    /** A client sending input at 20..30 Hz, with room for menus and chat. */
    public static final int DEFAULT_CALLS_PER_SECOND = 50;
    /** Two seconds of the default rate: a client catching up after a hiccup or a resume is not refused. */
    public static final int DEFAULT_CALL_BURST = 100;
    public static final int MAX_CALLS_PER_SECOND = 1_000_000;
    /** The default rate's 50 calls of about 5 KiB each. */
    public static final int DEFAULT_BYTES_PER_SECOND = 256 * 1024;
    /** Four seconds of the default byte rate, raised to {@code maxFrameBytes} when that is larger. */
    public static final int DEFAULT_BYTE_BURST = 1024 * 1024;
    public static final int MIN_BYTES_PER_SECOND = 1024;
    public static final int MAX_BYTES_PER_SECOND = 1024 * 1024 * 1024;
    /** Refused calls (without a quiet second between them) before the next refusal closes the connection. */
    public static final int DEFAULT_MAX_RATE_LIMIT_REFUSALS = 100;

    private final GatewayCore core;

    private Gateway(GatewayCore core) {
        this.core = core;
    }

    /** Settings for a gateway on {@code node} (started; not closed by the gateway). */
    public static Builder builder(Braid node) {
        return new Builder(Objects.requireNonNull(node, "node"));
    }

    /** Where the WebSocket front end listens, if it is on. */
    public Optional<InetSocketAddress> webSocketAddress() {
        return core.webSocketAddress();
    }

    /** Where the TCP front end listens, if it is on. */
    public Optional<InetSocketAddress> tcpAddress() {
        return core.tcpAddress();
    }

    /** Sessions bound to this gateway and attached to a connection now (not the DETACHED ones awaiting a resume). */
    public int sessionCount() {
        return core.sessionCount();
    }

    /** Open client connections, logged in or not. */
    public int connectionCount() {
        return core.connectionCount();
    }

    /** Closes the front ends and every connection; idempotent; must not be called on an event loop. */
    @Override
    public void close() {
        core.close();
    }

    /**
     * Stops this gateway as if its process died, for failure drills, demos and tests of a
     * gateway's death in one JVM: every connection is dropped, and nothing is cleaned up or
     * announced — no session ends, no CLOSED event, no link removed, no durable record changed.
     * Its players resume on another gateway (see README: Resume). Close the gateway's node after
     * it, as a dead process's node would vanish. Never the way to shut a gateway down: that is
     * {@link #close()}. Idempotent with {@link #close()}.
     */
    public void crash() {
        core.crash();
    }

    /**
     * Settings of a gateway; each setter validates at once and throws IllegalArgumentException
     * naming the setting. {@link #start()} copies them: later changes do not reach the gateway.
     */
    public static final class Builder {
        private final Braid node;
        private LoginHook login;
        private RouteTable routes = RouteTable.none();
        private String host = "127.0.0.1";
        private int webSocketPort = -1;
        private String webSocketPath = DEFAULT_WEBSOCKET_PATH;
        private Set<String> allowedOrigins = Set.of();
        private int tcpPort = -1;
        private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration loginTimeout = DEFAULT_LOGIN_TIMEOUT;
        private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
        private Consumer<SessionEvent> sessionListener = event -> { };
        private EventLoopGroup eventLoopGroup;
        private int ioThreads = DEFAULT_IO_THREADS;
        private Duration resumeGrace = DEFAULT_RESUME_GRACE;
        private int replayMaxPushes = DEFAULT_REPLAY_MAX_PUSHES;
        private int replayMaxBytes = DEFAULT_REPLAY_MAX_BYTES;
        private int maxPendingBytes = DEFAULT_MAX_PENDING_BYTES;
        private int callsPerSecond = DEFAULT_CALLS_PER_SECOND;
        private int callBurst = DEFAULT_CALL_BURST;
        private int bytesPerSecond = DEFAULT_BYTES_PER_SECOND;
        private int byteBurst = -1; // not set: DEFAULT_BYTE_BURST, or maxFrameBytes when larger
        private int maxRateLimitRefusals = DEFAULT_MAX_RATE_LIMIT_REFUSALS;
        private SslContext tls;
        private Ticker ticker = Ticker.system();

        private Builder(Braid node) {
            this.node = node;
        }

        /** Authenticates each connection's first frame (required). */
        public Builder login(LoginHook login) {
            this.login = Objects.requireNonNull(login, "login");
            return this;
        }

        /** The routes clients may call; default {@link RouteTable#none()} (every call refused). */
        public Builder routes(RouteTable routes) {
            this.routes = Objects.requireNonNull(routes, "routes");
            return this;
        }

        /** The address both front ends bind; default 127.0.0.1 (0.0.0.0 in containers). */
        public Builder host(String host) {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("host must not be blank");
            }
            this.host = host;
            return this;
        }

        /** Turns the WebSocket front end on, at this port (0 picks a free one). */
        public Builder webSocket(int port) {
            this.webSocketPort = port(port, "webSocket port");
            return this;
        }

        /** The path of the WebSocket; default {@value #DEFAULT_WEBSOCKET_PATH}. Other paths get 404. */
        public Builder webSocketPath(String path) {
            if (path == null || !path.startsWith("/")) {
                throw new IllegalArgumentException("webSocketPath must start with '/', was " + path);
            }
            this.webSocketPath = path;
            return this;
        }

        /**
         * The browser origins allowed to open the WebSocket (e.g. {@code https://game.example});
         * a handshake with another Origin gets 403. Default: empty, every origin allowed. A
         * handshake without an Origin header (not a browser) is always allowed.
         */
        public Builder allowedOrigins(Set<String> origins) {
            this.allowedOrigins = Set.copyOf(Objects.requireNonNull(origins, "allowedOrigins"));
            return this;
        }

        /** Turns the TCP front end (4-byte length-prefixed frames) on, at this port (0 picks a free one). */
        public Builder tcp(int port) {
            this.tcpPort = port(port, "tcp port");
            return this;
        }

        /**
         * The largest frame a client may send (WebSocket message or TCP frame, without the
         * prefix), 1..{@value #MAX_MAX_FRAME_BYTES}; default {@value #DEFAULT_MAX_FRAME_BYTES}. A
         * larger one closes the connection (TCP: after an Error frame RESOURCE_EXHAUSTED;
         * WebSocket: close status 1009).
         */
        public Builder maxFrameBytes(int bytes) {
            this.maxFrameBytes = inRange(bytes, 1, MAX_MAX_FRAME_BYTES, "maxFrameBytes");
            return this;
        }

        /** A connection that sends nothing for this long is closed (after an Error frame); default 60 s. */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idleTimeout");
            return this;
        }

        /** A connection not logged in this long after it opened is closed; default 10 s. */
        public Builder loginTimeout(Duration timeout) {
            this.loginTimeout = positive(timeout, "loginTimeout");
            return this;
        }

        /** How long a client's call may take in the service it routes to; default 5 s. */
        public Builder callTimeout(Duration timeout) {
            this.callTimeout = positive(timeout, "callTimeout");
            return this;
        }

        /**
         * Hears every session event of this gateway, inline on the thread that made the change
         * (often an event loop): must be quick and must not block.
         */
        public Builder sessionListener(Consumer<SessionEvent> listener) {
            this.sessionListener = Objects.requireNonNull(listener, "sessionListener");
            return this;
        }

        /**
         * Runs the front ends on this event loop group, NIO or native epoll (borrowed: the gateway
         * never shuts it down). Default: a group of the gateway's own with {@link #ioThreads}
         * threads, epoll where it loads.
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            Objects.requireNonNull(group, "eventLoopGroup");
            if (!(group instanceof io.netty.channel.nio.NioEventLoopGroup)
                    && !(group instanceof io.netty.channel.epoll.EpollEventLoopGroup)) {
                throw new IllegalArgumentException("eventLoopGroup must be a NioEventLoopGroup or an EpollEventLoopGroup, was "
                        + group.getClass().getName());
            }
            this.eventLoopGroup = group;
            return this;
        }

        /**
         * Runs the front ends on the node's own event loops, those its RPC client and server run on:
         * the gateway starts no threads of its own, and a player's call hops from the front end to
         * the node's RPC client without a thread switch when both sit on one loop (a node with
         * {@code ioThreads(1)}; with more loops, the share that happens to). For a node that is
         * mostly a gateway on few cores. The node must stay open until the gateway has closed (its
         * owner closes the gateway first, as always).
         */
        public Builder nodeEventLoops() {
            return eventLoopGroup(node.eventLoopGroup());
        }

        /** Threads of the gateway's own event loop group, 1..256; default {@value #DEFAULT_IO_THREADS}. */
        public Builder ioThreads(int threads) {
            this.ioThreads = inRange(threads, 1, 256, "ioThreads");
            return this;
        }

        /**
         * How long a session whose connection dropped stays DETACHED, buffering its pushes, for
         * the client to resume it (here or on another gateway); then it ends CLOSED. 0..1 h;
         * default 30 s; zero turns resume off (a drop ends the session at once).
         */
        public Builder resumeGrace(Duration grace) {
            Objects.requireNonNull(grace, "resumeGrace");
            if (grace.isNegative() || grace.compareTo(MAX_RESUME_GRACE) > 0) {
                throw new IllegalArgumentException("resumeGrace must be in 0.." + MAX_RESUME_GRACE + ", was " + grace);
            }
            this.resumeGrace = grace;
            return this;
        }

        /**
         * The replay buffer of each session (its push log in the control plane: in memory or
         * Redis, so it survives the gateway) keeps at most this many of its latest pushes,
         * 1..{@value #MAX_REPLAY_MAX_PUSHES}; default {@value #DEFAULT_REPLAY_MAX_PUSHES}. A resume
         * that needs an older push is refused RESOURCE_EXHAUSTED and the session is closed.
         */
        public Builder replayMaxPushes(int pushes) {
            this.replayMaxPushes = inRange(pushes, 1, MAX_REPLAY_MAX_PUSHES, "replayMaxPushes");
            return this;
        }

        /**
         * The replay buffer of each session keeps at most this many payload bytes of its latest
         * pushes, 1024..{@value #MAX_REPLAY_MAX_BYTES}; default {@value #DEFAULT_REPLAY_MAX_BYTES}.
         */
        public Builder replayMaxBytes(int bytes) {
            this.replayMaxBytes = inRange(bytes, 1024, MAX_REPLAY_MAX_BYTES, "replayMaxBytes");
            return this;
        }

        /**
         * The bound of a connection's outbound queue (bytes written but not yet taken by the
         * client's socket), 16 KiB..64 MiB; default 1 MiB. A push to a connection past it is not
         * written: the connection is closed (a client that does not read), the session detaches
         * with the push in its replay buffer, and the client resumes.
         */
        public Builder maxPendingBytes(int bytes) {
            this.maxPendingBytes = inRange(bytes, 16 * 1024, 64 * 1024 * 1024, "maxPendingBytes");
            return this;
        }

        /**
         * Serves both front ends over TLS with this server context (TCP: TLS around the
         * length-prefixed frames; WebSocket: {@code wss://}); for mutual TLS build it with
         * {@code clientAuth(REQUIRE)}. Default: plain text. The handshake must end within the
         * {@link #loginTimeout}. A client that does not speak TLS, or fails the handshake, is
         * closed without a frame (it could not read one) and logged at INFO.
         *
         * @throws IllegalArgumentException for a client context
         */
        public Builder tls(SslContext serverContext) {
            Objects.requireNonNull(serverContext, "tls");
            if (!serverContext.isServer()) {
                throw new IllegalArgumentException("tls needs a server SslContext (SslContextBuilder.forServer), got a"
                        + " client one");
            }
            this.tls = serverContext;
            return this;
        }

        /**
         * Each player may make {@code perSecond} calls a second, in bursts of up to {@code burst}
         * (a token bucket per player token, shared by all its connections to this gateway, and kept
         * across its reconnects); 1..{@value #MAX_CALLS_PER_SECOND} each;
         * default {@value #DEFAULT_CALLS_PER_SECOND}/s, burst {@value #DEFAULT_CALL_BURST}. A call
         * over the limit is not forwarded: its Reply is RESOURCE_EXHAUSTED "rate limit: N calls/s
         * (burst B)". See {@link #maxRateLimitRefusals}.
         */
        public Builder callRateLimit(int perSecond, int burst) {
            this.callsPerSecond = inRange(perSecond, 1, MAX_CALLS_PER_SECOND, "callRateLimit");
            this.callBurst = inRange(burst, 1, MAX_CALLS_PER_SECOND, "callRateLimit burst");
            return this;
        }

        /**
         * Each player may send {@code perSecond} bytes of call payload a second, in bursts of up
         * to {@code burst}; {@value #MIN_BYTES_PER_SECOND}..{@value #MAX_BYTES_PER_SECOND} each;
         * default {@value #DEFAULT_BYTES_PER_SECOND}/s, burst {@value #DEFAULT_BYTE_BURST} (or
         * {@link #maxFrameBytes} when that is larger). The burst must be at least
         * {@code maxFrameBytes} (checked at {@link #start()}), or a call of the largest frame
         * could never pass. A call over the limit is not forwarded: its Reply is
         * RESOURCE_EXHAUSTED "rate limit: N bytes/s (burst B)".
         */
        public Builder byteRateLimit(int perSecond, int burst) {
            this.bytesPerSecond = inRange(perSecond, MIN_BYTES_PER_SECOND, MAX_BYTES_PER_SECOND, "byteRateLimit");
            this.byteBurst = inRange(burst, MIN_BYTES_PER_SECOND, MAX_BYTES_PER_SECOND, "byteRateLimit burst");
            return this;
        }

        /**
         * A player refused this many calls by the rate limits, without a quiet second (no
         * refusal) between them, is flooding: the next refused call closes its connection with an
         * Error frame RESOURCE_EXHAUSTED naming the limit (the session detaches, as after any
         * drop). 1..1,000,000; default {@value #DEFAULT_MAX_RATE_LIMIT_REFUSALS}.
         */
        public Builder maxRateLimitRefusals(int refusals) {
            this.maxRateLimitRefusals = inRange(refusals, 1, 1_000_000, "maxRateLimitRefusals");
            return this;
        }

        /** The clock of the rate limits; default {@link Ticker#system()}. Tests pass a ticker they move by hand. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Registers the gateway's methods on the node and opens the front ends.
         *
         * @throws IllegalStateException when no login hook is set, no front end is on, a
         *     {@link #byteRateLimit} burst is below {@link #maxFrameBytes}, the node already runs a
         *     gateway, or a port cannot be bound
         */
        public Gateway start() {
            if (login == null) {
                throw new IllegalStateException("a gateway needs a login hook: Gateway.Builder.login(...)");
            }
            if (webSocketPort < 0 && tcpPort < 0) {
                throw new IllegalStateException("a gateway needs a front end: Gateway.Builder.webSocket(port) and/or"
                        + " tcp(port)");
            }
            if (byteBurst >= 0 && byteBurst < maxFrameBytes) {
                throw new IllegalStateException("byteRateLimit burst of " + byteBurst + " bytes is below maxFrameBytes of "
                        + maxFrameBytes + ": a call of the largest frame could never pass; raise the burst");
            }
            RateLimits limits = new RateLimits(callsPerSecond, callBurst, bytesPerSecond,
                    byteBurst >= 0 ? byteBurst : Math.max(DEFAULT_BYTE_BURST, maxFrameBytes), maxRateLimitRefusals);
            GatewaySettings settings = new GatewaySettings(login, routes, host, webSocketPort, webSocketPath,
                    allowedOrigins, tcpPort, maxFrameBytes, idleTimeout, loginTimeout, callTimeout, sessionListener,
                    eventLoopGroup, ioThreads, resumeGrace, replayMaxPushes, replayMaxBytes, maxPendingBytes, limits,
                    tls, ticker);
            return new Gateway(GatewayCore.start(settings, node));
        }

        private static int inRange(int value, int min, int max, String name) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ", was " + value);
            }
            return value;
        }

        private static Duration positive(Duration value, String name) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, was " + value);
            }
            return value;
        }

        private static int port(int port, String name) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException(name + " must be in 0..65535 (0 picks a free one), was " + port);
            }
            return port;
        }
    }
}
