package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Client;
import io.braid.api.ClientInterceptor;
import io.braid.api.ClientStream;
import io.braid.api.Codec;
import io.braid.api.Discover;
import io.braid.api.LinkCache;
import io.braid.api.Ticker;
import io.braid.api.internal.Checks;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The braid RPC client: its API and its lifecycle. A call (or stream) gets its deadline and goes
 * through the client interceptors ({@code ClientCallChain}), then to a node ({@code CallRouter}):
 * a call with a token to the token's owner in the {@link LinkCache} ({@code TokenRouter}, which
 * links a token without an owner to a node, first writer wins, and never gives a token a second
 * owner while the first is registered), any other call to a node the {@code NodePicker} chooses
 * (random among ACTIVE nodes, ejection after connect failures, fail-open); a failed attempt is
 * retried on another node only as the {@code RetryRule} allows (a stateless call never written,
 * or an idempotent one). A unary token call is never retried that way, but a node's refusal that
 * says the call did not run there (response metadata {@code braid-moved}: its handler threw
 * {@link io.braid.api.internal.NotServedHere}, or its token gate refused a token given to another
 * node) sends it on to the token's new owner ({@code Reroute}): directly when the refusal names a
 * node discovery lists, else through the link cache after 10, 20, then 40 ms; at most 3 times,
 * within the call's deadline, not after {@link #close()}. The caller and the interceptors see one
 * call and its final outcome; when the re-routes run out, the last refusal (UNAVAILABLE). A plain
 * UNAVAILABLE from a token call is final: its handler may have run. Connections come from
 * {@code PeerPools}, multiplexed, and answers are correlated by call id. braid-rpc's README
 * follows one token call through these classes.
 *
 * <p>Settings are copied at {@link Builder#build()}: changing the builder later changes nothing
 * here; {@link #newBuilder()} starts a new builder from them. Thread-safe. {@link #close()} lets
 * calls in flight finish (up to the grace period), then closes every connection; it is idempotent.
 */
public final class RpcClient implements Client, AutoCloseable {
    private final ClientOptions options;
    private final CodecRegistry codecs;
    private final ClientCallChain chain;
    private final CallRouter router;
    private final EventLoopGroup group;
    private final boolean ownsGroup;

    private RpcClient(ClientOptions options) {
        this.options = options;
        this.codecs = new CodecRegistry(options.codecs());
        this.chain = new ClientCallChain(options.propagateDeadlines(), options.interceptors(),
                options.defaultTimeout(), options.ticker());
        this.ownsGroup = options.group() == null;
        this.group = ownsGroup ? Transports.newGroup(options.ioThreads(), "braid-rpc-client") : options.group();
        this.router = new CallRouter(options, group);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this client's settings (changing it changes nothing here). */
    public Builder newBuilder() {
        return new Builder(options);
    }

    /** Bad arguments fail the future (see {@link Client}); nothing here throws. */
    @Override
    public <R> CompletableFuture<R> invoke(String target, String method, String token, MessageLite request,
                                           Parser<R> responseParser, CallOptions options) {
        BraidException bad = CallArguments.check(target, method, token, request == null, responseParser == null, options);
        return bad != null ? CompletableFuture.failedFuture(bad)
                : start(target, method, token, request, responseParser, options);
    }

    /** Bad arguments fail the future (see {@link Client}); nothing here throws. */
    @Override
    public CompletableFuture<byte[]> invoke(String target, String method, String token, byte[] request,
                                            CallOptions options) {
        BraidException bad = CallArguments.check(target, method, token, request == null, false, options);
        return bad != null ? CompletableFuture.failedFuture(bad) : start(target, method, token, request, null, options);
    }

    /**
     * Bad arguments end the returned stream at once (see {@link Client}); nothing here throws. The
     * stream goes through the client interceptors as a call does; the future they chain on is the
     * stream's end.
     */
    @Override
    public <Q extends MessageLite, R> ClientStream<Q, R> stream(String target, String method, String token,
                                                               Parser<R> responseParser, CallOptions options) {
        BraidException bad = CallArguments.check(target, method, token, false, responseParser == null, options);
        Codec codec = bad == null ? codecs.resolve(options.contentType()) : null;
        if (bad == null && codec == null) {
            bad = CallArguments.unknownContentType(options, codecs);
        }
        ClientStreamCall<Q, R> stream = new ClientStreamCall<>(String.valueOf(target), String.valueOf(method),
                token == null ? "" : token, codec != null ? codec : Codecs.protobuf(), responseParser);
        if (bad != null) {
            stream.completeExceptionally(bad);
            return stream;
        }
        chain.runStream(stream, options, (deadline, metadata) -> {
            stream.prepare(deadline, metadata, this.options.nodeId());
            router.route(stream);
            return null;
        });
        return stream;
    }

    /** {@code parser} null means the answer is returned as bytes; the arguments are checked already. */
    private <R> CompletableFuture<R> start(String target, String method, String token, Object request,
                                           Parser<R> parser, CallOptions callOptions) {
        Codec codec = codecs.resolve(callOptions.contentType());
        ByteString payload;
        try {
            payload = CallArguments.encode(request, codec, callOptions, codecs);
        } catch (BraidException e) {
            return CompletableFuture.failedFuture(e);
        }
        String tokenOrEmpty = token == null ? "" : token;
        return chain.run(target, method, tokenOrEmpty, callOptions, (deadline, metadata) -> {
            PendingCall<R> call = new PendingCall<>(target, method, tokenOrEmpty, callOptions.idempotent(), deadline,
                    metadata, options.nodeId(), payload, CodecRegistry.wireName(codec), PendingCall.decoder(codec, parser));
            router.route(call);
            return call;
        });
    }

    /** Number of nodes this client holds connections to (for tests and the monitor). */
    public int peerCount() {
        return router.peerCount();
    }

    /** Graceful close: no new calls, calls in flight get up to the grace period, then all connections close. */
    @Override
    public void close() {
        if (router.close(options.shutdownGrace()) && ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Settings of a client; every setter validates at once, {@link #build()} checks the whole. */
    public static final class Builder {
        public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
        public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);
        public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(10);
        public static final Duration DEFAULT_KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(30);
        public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(10);

        private Discover discover;
        private LinkCache links;
        private final List<Codec> codecs = new ArrayList<>();
        private final List<ClientInterceptor> interceptors = new ArrayList<>();
        private boolean propagateDeadlines = true;
        private String nodeId;
        private Duration defaultTimeout = DEFAULT_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration pingInterval = DEFAULT_PING_INTERVAL;
        private Duration keepAliveTimeout = DEFAULT_KEEP_ALIVE_TIMEOUT;
        private Duration shutdownGrace = DEFAULT_SHUTDOWN_GRACE;
        private int connectionsPerPeer = 1;
        private int maxFrameBytes = RpcServer.Builder.DEFAULT_MAX_FRAME_BYTES;
        private int maxAttempts = 3;
        private int failuresToEject = 3;
        private Duration ejectionBackoff = Duration.ofSeconds(1);
        private Duration maxEjectionBackoff = Duration.ofSeconds(30);
        private int ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private EventLoopGroup group;
        private SslContext tls;
        private Ticker ticker = Ticker.system();

        private Builder() {
        }

        private Builder(ClientOptions from) {
            discover = from.discover();
            links = from.links();
            codecs.addAll(from.codecs());
            interceptors.addAll(from.interceptors());
            propagateDeadlines = from.propagateDeadlines();
            nodeId = from.nodeId();
            defaultTimeout = from.defaultTimeout();
            connectTimeout = from.connectTimeout();
            pingInterval = from.pingInterval();
            keepAliveTimeout = from.keepAliveTimeout();
            shutdownGrace = from.shutdownGrace();
            connectionsPerPeer = from.connectionsPerPeer();
            maxFrameBytes = from.maxFrameBytes();
            maxAttempts = from.maxAttempts();
            failuresToEject = from.failuresToEject();
            ejectionBackoff = from.ejectionBackoff();
            maxEjectionBackoff = from.maxEjectionBackoff();
            ioThreads = from.ioThreads();
            group = from.group();
            tls = from.tls();
            ticker = from.ticker();
        }

        /** Where the nodes of each service come from (required); the client never closes it. */
        public Builder discover(Discover discover) {
            this.discover = Objects.requireNonNull(discover, "discover");
            return this;
        }

        /** Adds a client interceptor; they run in the order added, after deadline propagation. */
        public Builder intercept(ClientInterceptor interceptor) {
            interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
            return this;
        }

        /** Adds a codec for its content type, next to the built-in protobuf, JSON and raw ones. */
        public Builder codec(Codec codec) {
            codecs.add(Objects.requireNonNull(codec, "codec"));
            return this;
        }

        /**
         * Whether a call made while serving another inherits that call's deadline (default true; see
         * {@link RpcContext}).
         */
        public Builder propagateDeadlines(boolean propagate) {
            this.propagateDeadlines = propagate;
            return this;
        }

        /** Where token owners are kept; without one a token call is not sticky. Borrowed, never closed. */
        public Builder linkCache(LinkCache links) {
            this.links = Objects.requireNonNull(links, "linkCache");
            return this;
        }

        /** This node's id, sent with every call so handlers see who called. */
        public Builder nodeId(String nodeId) {
            Checks.notBlank(nodeId, "nodeId");
            this.nodeId = nodeId;
            return this;
        }

        /** Timeout of calls whose options set none; default 10 s. */
        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = Checks.positive(timeout, "defaultTimeout");
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Checks.positive(timeout, "connectTimeout");
            return this;
        }

        /** A connection with no traffic for this long sends a Ping; default 10 s. */
        public Builder pingInterval(Duration interval) {
            this.pingInterval = Checks.positive(interval, "pingInterval");
            return this;
        }

        /** A connection that reads nothing (not even a Ping answer) for this long is closed; default 30 s. */
        public Builder keepAliveTimeout(Duration timeout) {
            this.keepAliveTimeout = Checks.positive(timeout, "keepAliveTimeout");
            return this;
        }

        /** How long {@link #close()} waits for calls in flight; default 10 s. */
        public Builder shutdownGrace(Duration grace) {
            this.shutdownGrace = Checks.notNegative(grace, "shutdownGrace");
            return this;
        }

        /** Multiplexed connections per node, 1..64; default 1. */
        public Builder connectionsPerPeer(int connections) {
            this.connectionsPerPeer = Checks.inRange(connections, 1, 64, "connectionsPerPeer");
            return this;
        }

        /** Largest frame written or read, 1 KiB..1 GiB; default 4 MiB. */
        public Builder maxFrameBytes(int maxFrameBytes) {
            this.maxFrameBytes = Checks.inRange(maxFrameBytes, 1024, (1 << 30), "maxFrameBytes");
            return this;
        }

        /** Attempts per call (first try included), 1..10; default 3. */
        public Builder maxAttempts(int attempts) {
            this.maxAttempts = Checks.inRange(attempts, 1, 10, "maxAttempts");
            return this;
        }

        /**
         * Ejection (go-micro's Mark): after {@code failures} consecutive connect failures a node gets
         * no stateless calls for {@code backoff}, doubling per repeated ejection up to {@code max}.
         */
        public Builder ejection(int failures, Duration backoff, Duration max) {
            ClientOptions.checkEjection(failures, backoff, max);
            this.failuresToEject = failures;
            this.ejectionBackoff = backoff;
            this.maxEjectionBackoff = max;
            return this;
        }

        public Builder ioThreads(int ioThreads) {
            this.ioThreads = (int) Checks.atLeast(ioThreads, 1, "ioThreads");
            return this;
        }

        /** A group to borrow (never shut down by the client); default: its own. */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = Objects.requireNonNull(group, "eventLoopGroup");
            return this;
        }

        /** Connect with TLS using this client context (with a key and certificate in it for mutual TLS). */
        public Builder tls(SslContext clientContext) {
            Objects.requireNonNull(clientContext, "tls");
            if (!clientContext.isClient()) {
                throw new IllegalArgumentException("tls needs a client SslContext, got a server one");
            }
            this.tls = clientContext;
            return this;
        }

        /**
         * The clock of the client's timing policies (call deadlines, ejection, avoiding a node after
         * its GoAway); default {@link Ticker#system()}. Timers still fire on real time: a test moves
         * the ticker to make a policy see time pass.
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * The client with these settings, copied: changing this builder later changes nothing in it.
         * Fails (IllegalStateException) without a discover, or with a keepAliveTimeout not longer
         * than the pingInterval.
         */
        public RpcClient build() {
            return new RpcClient(new ClientOptions(discover, links, codecs, interceptors, propagateDeadlines, nodeId,
                    defaultTimeout, connectTimeout, pingInterval, keepAliveTimeout, shutdownGrace, connectionsPerPeer,
                    maxFrameBytes, maxAttempts, failuresToEject, ejectionBackoff, maxEjectionBackoff, ioThreads, group,
                    tls, ticker));
        }
    }
}
