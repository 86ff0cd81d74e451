package io.braid.rpc;

import io.braid.api.internal.Checks;
import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientInterceptor;
import io.braid.api.ClientStream;
import io.braid.api.Codec;
import io.braid.api.Client;
import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.OutgoingCall;
import io.braid.api.Subscription;
import io.braid.rpc.internal.ClientChannels;
import io.braid.rpc.internal.CodecRegistry;
import io.braid.rpc.internal.PeerPool;
import io.braid.rpc.internal.ClientStreamCall;
import io.braid.rpc.internal.PendingCall;
import io.braid.rpc.internal.RoutedCall;
import io.braid.rpc.internal.ServerConnectionHandler;
import io.braid.rpc.internal.Transports;
import io.braid.rpc.internal.balance.EjectionMarks;
import io.braid.rpc.internal.balance.RandomPicker;
import io.braid.rpc.internal.balance.SmoothWeightedPicker;
import io.braid.rpc.internal.wire.Request;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * The braid RPC client: picks a node of the target service from its node source (a
 * {@link Discover}), keeps a small pool of multiplexed connections per node, and correlates
 * answers by call id.
 *
 * <p>Picking: a stateless call (empty token) goes to a random ACTIVE node. A call with a token
 * goes to the node that owns the token in the {@link LinkCache} (near cache, then the store); a
 * token without an owner is linked, first writer wins, to a node picked by smooth weighted round
 * robin over ACTIVE nodes. The owner is called even while DRAINING; an owner that is registered but
 * unreachable gives UNAVAILABLE and keeps its tokens (never a second owner while the first may
 * live); an owner that discovery no longer lists (checked against the store, not a lagging view)
 * loses the token to a new owner on its next call. Without a link cache a token call is simply
 * picked by smooth weighted round robin. Nodes with weight 0, DRAINING nodes, nodes ejected after
 * consecutive connect failures and nodes that just sent GoAway get no new work; when that leaves
 * nothing, ejected and GoAway nodes are tried anyway (fail open).
 *
 * <p>Retries: a stateless call whose request was provably never written (connect refused,
 * connection closed before the write, a GoAway that names it unprocessed) is retried on another
 * node, up to {@code maxAttempts}; after the request left, only an idempotent call is retried.
 * A call with a token is never moved to another node by a retry.
 *
 * <p>Thread-safe. {@link #close()} lets calls in flight finish (up to the grace period), then
 * closes every connection; it is idempotent.
 */
public final class RpcClient implements Client, AutoCloseable {
    private final Builder settings;
    private final Discover discover;
    private final LinkCache links;
    private final CodecRegistry codecs;
    private final List<ClientInterceptor> interceptors;
    /** The chain is braid's own deadline propagation alone (the default), which calls run without building it. */
    private final boolean onlyDeadlinePropagation;
    private final EjectionMarks marks;
    private final ClientChannels channels;
    private final ConcurrentHashMap<String, PeerPool> pools = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ServiceBalancer> balancers = new ConcurrentHashMap<>();
    private final Subscription membership;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final EventLoopGroup group;
    private final boolean ownsGroup;

    private RpcClient(Builder settings) {
        this.settings = settings;
        this.discover = settings.discover;
        this.links = settings.links;
        this.codecs = new CodecRegistry(settings.codecs);
        List<ClientInterceptor> chain = new java.util.ArrayList<>();
        if (settings.propagateDeadlines) {
            chain.add(new DeadlinePropagation());
        }
        chain.addAll(settings.interceptors);
        this.interceptors = List.copyOf(chain);
        this.onlyDeadlinePropagation = interceptors.size() == 1 && interceptors.get(0) instanceof DeadlinePropagation;
        this.marks = new EjectionMarks(settings.failuresToEject, settings.ejectionBackoff,
                settings.maxEjectionBackoff, System::nanoTime);
        this.ownsGroup = settings.group == null;
        this.group = ownsGroup ? Transports.newGroup(settings.ioThreads, "braid-rpc-client") : settings.group;
        this.channels = new ClientChannels(group, settings.tls, settings.maxFrameBytes, settings.connectTimeout,
                settings.pingInterval, settings.keepAliveTimeout, settings.nodeId, marks, this::retryOrFail);
        this.membership = discover.watch(this::onMembership);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Bad arguments fail the future (see {@link Client}); nothing here throws. */
    @Override
    public <R> CompletableFuture<R> invoke(String target, String method, String token, MessageLite request,
                                           Parser<R> responseParser, CallOptions options) {
        BraidException bad = badArguments(target, method, token, request == null, responseParser == null, options);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return start(target, method, token, request, responseParser, options);
    }

    /** Bad arguments fail the future (see {@link Client}); nothing here throws. */
    @Override
    public CompletableFuture<byte[]> invoke(String target, String method, String token, byte[] request,
                                            CallOptions options) {
        BraidException bad = badArguments(target, method, token, request == null, false, options);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return start(target, method, token, request, null, options);
    }

    /** Bad arguments end the returned stream at once (see {@link Client}); nothing here throws. */
    @Override
    public <Q extends MessageLite, R> ClientStream<Q, R> stream(String target, String method, String token,
                                                               Parser<R> responseParser, CallOptions options) {
        BraidException bad = badArguments(target, method, token, false, responseParser == null, options);
        if (bad != null) {
            ClientStreamCall<Q, R> failed = new ClientStreamCall<>(String.valueOf(target), String.valueOf(method),
                    token == null ? "" : token, Deadline.after(settings.defaultTimeout), Request.newBuilder(),
                    Codecs.protobuf(), bytes -> {
                        throw bad;
                    });
            failed.completeExceptionally(bad);
            return failed;
        }
        String tokenOrEmpty = token == null ? "" : token;
        Codec codec = codecs.resolve(options.contentType());
        Deadline deadline = options.effectiveDeadline(settings.defaultTimeout);
        io.braid.api.CallContext serving = RpcContext.currentOrNull();
        if (serving != null && settings.propagateDeadlines) {
            deadline = deadline.min(serving.deadline());
        }
        Request.Builder open = Request.newBuilder().setMethod(method).setToken(tokenOrEmpty)
                .setContentType(codec == null ? "" : CodecRegistry.wireName(codec));
        if (!options.metadata().isEmpty()) {
            open.putAllMetadata(options.metadata());
        }
        if (settings.nodeId != null) {
            open.putMetadata(ServerConnectionHandler.CALLER_KEY, settings.nodeId);
        }
        Codec streamCodec = codec != null ? codec : Codecs.protobuf();
        ClientStreamCall<Q, R> stream = new ClientStreamCall<>(target, method, tokenOrEmpty, deadline, open, streamCodec,
                bytes -> streamCodec.decode(bytes, responseParser));
        if (codec == null) {
            stream.completeExceptionally(unknownContentType(options));
        } else if (closed.get()) {
            stream.completeExceptionally(new BraidException(Code.UNAVAILABLE, "client is closed"));
        } else {
            try {
                if (links != null && !tokenOrEmpty.isEmpty()) {
                    routeByLink(stream);
                } else {
                    startAttempt(stream, null);
                }
            } catch (BraidException e) {
                stream.completeExceptionally(e);
            }
        }
        return stream;
    }

    /**
     * The first bad argument of a call as the {@link BraidException} its future fails with
     * (INVALID_ARGUMENT, naming the argument), or null when they are all good. A null token is the
     * empty one (a stateless call); a link cache may refuse a token too (its length), see
     * {@link #linkCacheStep}.
     */
    private static BraidException badArguments(String target, String method, String token, boolean requestMissing,
                                               boolean parserMissing, CallOptions options) {
        if (target == null || target.isBlank()) {
            return invalidArgument("target must name a service, was " + quoted(target));
        }
        if (method == null || method.isBlank()) {
            return invalidArgument("method must name a method, was " + quoted(method));
        }
        if (token != null && !token.isEmpty() && token.isBlank()) {
            return invalidArgument("token must be empty (a stateless call) or a player's token, was " + quoted(token));
        }
        if (requestMissing) {
            return invalidArgument("request must not be null");
        }
        if (parserMissing) {
            return invalidArgument("responseParser must not be null");
        }
        if (options == null) {
            return invalidArgument("options must not be null (CallOptions.DEFAULT for none)");
        }
        return null;
    }

    private BraidException unknownContentType(CallOptions options) {
        return invalidArgument("contentType '" + options.contentType() + "' of the call options is unknown to this "
                + "client (it knows " + codecs + ")");
    }

    private static BraidException invalidArgument(String message) {
        return new BraidException(Code.INVALID_ARGUMENT, message);
    }

    private static String quoted(String value) {
        return value == null ? "null" : "'" + value + "'";
    }

    /** {@code parser} null means the answer is returned as bytes; the arguments are checked already. */
    @SuppressWarnings("unchecked")
    private <R> CompletableFuture<R> start(String target, String method, String token, Object request,
                                           Parser<R> parser, CallOptions options) {
        String tokenOrEmpty = token == null ? "" : token;
        Codec codec = codecs.resolve(options.contentType());
        if (codec == null) {
            return CompletableFuture.failedFuture(unknownContentType(options));
        }
        ByteString payload;
        try {
            payload = codec.encode(request);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(BraidException.from(e).code() == Code.UNKNOWN
                    ? new BraidException(Code.INVALID_ARGUMENT, "cannot encode the request as " + codec.contentType()
                            + ": " + e.getMessage(), e)
                    : BraidException.from(e));
        }
        PendingCall.Decoder<R> decoder = parser == null
                ? bytes -> (R) bytes.toByteArray()
                : bytes -> codec.decode(bytes, parser);
        Deadline deadline = options.effectiveDeadline(settings.defaultTimeout);
        if (interceptors.isEmpty()) {
            return send(target, method, tokenOrEmpty, payload, codec, decoder, options, deadline, options.metadata(), null);
        }
        if (onlyDeadlinePropagation) {
            // The default chain, without building it: what DeadlinePropagation does, in place.
            io.braid.api.CallContext serving = RpcContext.currentOrNull();
            if (serving != null) {
                deadline = deadline.min(serving.deadline());
            }
            return send(target, method, tokenOrEmpty, payload, codec, decoder, options, deadline, options.metadata(), null);
        }
        Outgoing call = new Outgoing(target, method, tokenOrEmpty, options, deadline);
        CompletableFuture<Object> answered = proceed(0, call, c -> (CompletableFuture<Object>) send(target, method,
                tokenOrEmpty, payload, codec, decoder, options, c.deadline(), c.metadata(), c));
        return (CompletableFuture<R>) answered;
    }

    /** Interceptor {@code index} of the chain, or {@code last} after the last one. */
    private CompletableFuture<Object> proceed(int index, Outgoing call,
                                              java.util.function.Function<Outgoing, CompletableFuture<Object>> last) {
        try {
            if (index == interceptors.size()) {
                return last.apply(call);
            }
            CompletableFuture<Object> answer = interceptors.get(index).intercept(call, c -> proceed(index + 1, call, last));
            return answer != null ? answer : CompletableFuture.failedFuture(new BraidException(Code.INTERNAL,
                    "a client interceptor returned a null future"));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(BraidException.from(e)); // futures hold BraidExceptions only
        }
    }

    private <R> CompletableFuture<R> send(String target, String method, String token, ByteString payload, Codec codec,
                                          PendingCall.Decoder<R> decoder, CallOptions options, Deadline deadline,
                                          Map<String, String> metadata, Outgoing observer) {
        PendingCall<R> call = new PendingCall<>(target, method, token, options.idempotent(), deadline, metadata,
                settings.nodeId, payload, CodecRegistry.wireName(codec), decoder);
        if (observer != null) {
            observer.pending = call;
        }
        if (closed.get()) {
            call.completeExceptionally(new BraidException(Code.UNAVAILABLE, "client is closed"));
            return call;
        }
        try {
            if (links != null && !token.isEmpty()) {
                routeByLink(call);
            } else {
                startAttempt(call, null);
            }
        } catch (BraidException e) {
            call.completeExceptionally(e);
        }
        return call;
    }

    /** A call as client interceptors see it. */
    private static final class Outgoing implements OutgoingCall {
        private final String target;
        private final String method;
        private final String token;
        private final CallOptions options;
        private final Map<String, String> metadata;
        private Deadline deadline;
        volatile PendingCall<?> pending;

        Outgoing(String target, String method, String token, CallOptions options, Deadline deadline) {
            this.target = target;
            this.method = method;
            this.token = token;
            this.options = options;
            this.deadline = deadline;
            this.metadata = new java.util.LinkedHashMap<>(options.metadata());
        }

        @Override
        public String target() {
            return target;
        }

        @Override
        public String method() {
            return method;
        }

        @Override
        public String token() {
            return token;
        }

        @Override
        public Map<String, String> metadata() {
            return metadata;
        }

        @Override
        public Deadline deadline() {
            return deadline;
        }

        @Override
        public void tightenDeadline(Deadline earlier) {
            deadline = deadline.min(earlier);
        }

        @Override
        public CallOptions options() {
            return options;
        }

        @Override
        public Map<String, String> responseMetadata() {
            PendingCall<?> call = pending;
            return call == null ? Map.of() : call.responseMetadata();
        }
    }

    /** Token calls: owner from the link cache, or a new owner linked first-writer-wins. */
    private void routeByLink(RoutedCall call) {
        withinDeadline(call, linkCacheStep(() -> links.targetAsync(call.token(), call.service())))
                .whenComplete((owner, failure) -> {
            if (failure != null) {
                call.completeExceptionally(linkCacheFailure(failure));
            } else if (owner.isPresent()) {
                callOwner(call, owner.get(), true);
            } else {
                linkNewOwner(call);
            }
        });
    }

    /**
     * Calls {@code ownerId}. If this view does not list it, the store is asked; if it is gone there
     * too, its link is removed (only if it still points at it) and the token gets a new owner.
     */
    private void callOwner(RoutedCall call, String ownerId, boolean mayRelink) {
        Node owner = find(discover.nodes(call.service()), ownerId);
        if (owner != null) {
            attemptOwner(call, owner);
            return;
        }
        withinDeadline(call, discover.refresh(call.service())).whenComplete((fresh, failure) -> {
            if (failure != null) {
                call.completeExceptionally(BraidException.from(failure));
                return;
            }
            Node listed = find(fresh, ownerId);
            if (listed != null) {
                attemptOwner(call, listed);
            } else if (!mayRelink) {
                call.completeExceptionally(new BraidException(Code.UNAVAILABLE,
                        "token " + call.token() + " is linked to " + ownerId + ", which is not registered"));
            } else {
                Node gone = new Node(ownerId, call.service(), "0.0.0.0", 1, 0, io.braid.api.NodeState.DRAINING,
                        java.util.Map.of());
                withinDeadline(call, linkCacheStep(() -> links.unlinkAsync(call.token(), gone)))
                        .whenComplete((removed, error) -> {
                    if (error != null) {
                        call.completeExceptionally(linkCacheFailure(error));
                    } else {
                        linkNewOwner(call);
                    }
                });
            }
        });
    }

    private void linkNewOwner(RoutedCall call) {
        Node candidate;
        try {
            candidate = pick(call);
        } catch (BraidException e) {
            call.completeExceptionally(e);
            return;
        }
        if (candidate == null) {
            call.completeExceptionally(new BraidException(Code.UNAVAILABLE, discover.nodes(call.service()).isEmpty()
                    ? "no node of service '" + call.service() + "' is registered"
                    : "no ACTIVE node of service '" + call.service() + "' can take token " + call.token()));
            return;
        }
        withinDeadline(call, linkCacheStep(() -> links.linkAsync(call.token(), candidate)))
                .whenComplete((ownerId, failure) -> {
            if (failure != null) {
                call.completeExceptionally(linkCacheFailure(failure));
            } else if (ownerId.equals(candidate.id())) {
                attemptOwner(call, candidate);
            } else {
                callOwner(call, ownerId, false); // another caller linked it first
            }
        });
    }

    /**
     * A step of the link cache as a future, even when the link cache throws: it refuses a token it
     * cannot keep (too long) with an IllegalArgumentException, sometimes before returning a future.
     */
    private static <T> CompletableFuture<T> linkCacheStep(java.util.function.Supplier<CompletableFuture<T>> step) {
        try {
            return step.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A link cache's refusal of the token is the caller's bad argument: INVALID_ARGUMENT. */
    private static BraidException linkCacheFailure(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof IllegalArgumentException) {
            return invalidArgument(cause.getMessage() != null ? cause.getMessage() : "the link cache refused the token");
        }
        return BraidException.from(failure);
    }

    /**
     * A routing step that waits on the control plane (link cache, discovery) is bounded by the
     * call's deadline, not only by Redis' command timeout: a call whose deadline passes before it
     * reaches any node ends DEADLINE_EXCEEDED then, and the step's late answer is ignored. Steps
     * answered at once (a near-cache hit) arm no timer.
     */
    private <T> CompletableFuture<T> withinDeadline(RoutedCall call, CompletableFuture<T> step) {
        if (step.isDone() || call.isDone()) {
            return step;
        }
        io.netty.util.concurrent.ScheduledFuture<?> timer = group.next().schedule(() -> {
            if (call.attempts() == 0) { // once sent, the connection's own deadline timer ends it
                call.completeExceptionally(new BraidException(Code.DEADLINE_EXCEEDED, "deadline exceeded finding "
                        + "the node of token " + call.token() + " in service '" + call.service() + "'"));
            }
        }, Math.max(0, call.deadline().remainingNanos()), TimeUnit.NANOSECONDS);
        step.whenComplete((value, failure) -> timer.cancel(false));
        return step;
    }

    private void attemptOwner(RoutedCall call, Node owner) {
        if (call.isDone()) {
            return;
        }
        call.attempt(owner, pool(owner).connection());
    }

    private static Node find(List<Node> nodes, String id) {
        for (Node node : nodes) {
            if (node.id().equals(id)) {
                return node;
            }
        }
        return null;
    }

    private void startAttempt(RoutedCall call, BraidException previous) {
        Node node = pick(call);
        if (node == null) {
            if (previous != null) {
                throw previous;
            }
            throw new BraidException(Code.UNAVAILABLE, discover.nodes(call.service()).isEmpty()
                    ? "no node of service '" + call.service() + "' is registered"
                    : "no ACTIVE node of service '" + call.service() + "' can take the call");
        }
        call.attempt(node, pool(node).connection());
    }

    /** Called on the event loop of a failed attempt. */
    private void retryOrFail(PendingCall<?> call, BraidException reason, boolean written) {
        if (call.isDone()) {
            return;
        }
        boolean allowed = (!written || call.idempotent()) && call.token().isEmpty()
                && call.attempts() < settings.maxAttempts && !call.deadline().isExpired() && !closed.get();
        if (!allowed) {
            call.completeExceptionally(reason);
            return;
        }
        try {
            startAttempt(call, reason);
        } catch (BraidException e) {
            call.completeExceptionally(e);
        }
    }

    private Node pick(RoutedCall call) {
        List<Node> nodes = discover.nodes(call.service());
        if (nodes.isEmpty()) {
            return null;
        }
        ServiceBalancer balancer = balancer(call.service(), nodes);
        boolean stateless = call.token().isEmpty();
        Predicate<Node> healthy = node -> takesNewWork(node) && !call.tried(node.id())
                && !marks.isEjected(node.id()) && !isAvoided(node);
        Node node = stateless ? balancer.random.pick(healthy) : balancer.smooth.pick(healthy);
        if (node == null) {
            Predicate<Node> any = node2 -> takesNewWork(node2) && !call.tried(node2.id());
            node = stateless ? balancer.random.pick(any) : balancer.smooth.pick(any);
        }
        return node;
    }

    private static boolean takesNewWork(Node node) {
        return node.isActive() && node.weight() > 0;
    }

    private boolean isAvoided(Node node) {
        PeerPool pool = pools.get(node.id());
        return pool != null && pool.avoided();
    }

    private ServiceBalancer balancer(String service, List<Node> nodes) {
        ServiceBalancer current = balancers.get(service);
        if (current != null && current.nodes == nodes) {
            return current;
        }
        return balancers.compute(service, (s, old) -> {
            if (old != null && old.nodes == nodes) {
                return old;
            }
            SmoothWeightedPicker smooth = old == null ? SmoothWeightedPicker.of(nodes) : old.smooth.update(nodes);
            return new ServiceBalancer(nodes, RandomPicker.of(nodes), smooth);
        });
    }

    private PeerPool pool(Node node) {
        PeerPool pool = pools.get(node.id());
        if (pool != null && sameAddress(pool.node(), node)) {
            return pool;
        }
        return pools.compute(node.id(), (id, old) -> {
            if (old != null && sameAddress(old.node(), node)) {
                return old;
            }
            if (old != null) {
                old.retire();
            }
            return new PeerPool(node, settings.connectionsPerPeer, channels::connect,
                    settings.ejectionBackoff.toNanos());
        });
    }

    /** Node.address() equality, without building the two strings on every call. */
    private static boolean sameAddress(Node a, Node b) {
        return a.port() == b.port() && a.host().equals(b.host());
    }

    private void onMembership(DiscoverEvent event) {
        Node node = event.node();
        switch (event.type()) {
            case REMOVED -> {
                PeerPool pool = pools.remove(node.id());
                if (pool != null) {
                    pool.retire();
                }
                marks.forget(node.id());
            }
            case UPDATED -> {
                if (!event.previous().address().equals(node.address())) {
                    PeerPool pool = pools.remove(node.id());
                    if (pool != null) {
                        pool.retire();
                    }
                }
            }
            case ADDED -> {
            }
        }
    }

    /** Number of nodes this client holds connections to (for tests and the monitor). */
    public int peerCount() {
        return pools.size();
    }

    /** Graceful close: no new calls, calls in flight get up to the grace period, then all connections close. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        membership.close();
        for (PeerPool pool : pools.values()) {
            pool.retire();
        }
        channels.awaitClosed(settings.shutdownGrace);
        for (PeerPool pool : pools.values()) {
            pool.closeNow();
        }
        pools.clear();
        channels.awaitClosed(Duration.ofSeconds(5));
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private record ServiceBalancer(List<Node> nodes, RandomPicker random, SmoothWeightedPicker smooth) {
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
        private final List<Codec> codecs = new java.util.ArrayList<>();
        private final List<ClientInterceptor> interceptors = new java.util.ArrayList<>();
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

        private Builder() {
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
         * {@link DeadlinePropagation}).
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
            if (failures < 1) {
                throw new IllegalArgumentException("ejection failures must be at least 1, was " + failures);
            }
            Checks.positive(backoff, "ejection backoff");
            Checks.positive(max, "ejection max backoff");
            if (max.compareTo(backoff) < 0) {
                throw new IllegalArgumentException("ejection max backoff " + max + " is below the backoff " + backoff);
            }
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

        public RpcClient build() {
            if (discover == null) {
                throw new IllegalStateException("discover is required: the client needs a source of nodes");
            }
            if (keepAliveTimeout.compareTo(pingInterval) <= 0) {
                throw new IllegalStateException("keepAliveTimeout (" + keepAliveTimeout
                        + ") must be longer than pingInterval (" + pingInterval + ")");
            }
            return new RpcClient(this);
        }
    }
}
