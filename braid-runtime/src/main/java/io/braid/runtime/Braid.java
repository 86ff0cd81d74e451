package io.braid.runtime;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Client;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Pubsub;
import io.braid.api.Server;
import io.braid.api.Topic;
import io.braid.monitor.internal.Monitoring;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
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
    private final Server server;
    private final Client client;
    private final Discover discover;
    private final Elector elector;
    private final LinkCache links;
    private final Pubsub pubsub;
    private final Monitoring monitoring;
    private final Closer closer;
    private final List<Consumer<Braid>> beforeStop;
    private final List<Runnable> afterStop;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Closed first thing in close(): token calls are refused from then on (see the token gate). */
    private final SelfFence fence;
    private final Drain drain;
    private final ControlPlane plane;
    private final java.util.List<io.braid.api.internal.PlayerViewContributor> contributors;
    /** Serialises changes of this node's record (weight, state) with their registration, so they reach discovery in order. */
    private final ReentrantLock recordChanges = new ReentrantLock();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final io.netty.channel.EventLoopGroup eventLoops;

    Braid(NodeOptions options, Node node, NodeStartup.Parts parts) {
        this.node = node;
        this.server = parts.server();
        this.client = parts.client();
        this.discover = parts.discover();
        this.elector = parts.elector();
        this.links = parts.links();
        this.pubsub = parts.pubsub();
        this.monitoring = parts.monitoring();
        this.closer = parts.closer();
        this.fence = parts.fence();
        this.plane = parts.plane();
        this.contributors = parts.contributors();
        this.eventLoops = parts.eventLoops();
        this.beforeStop = options.beforeStopHooks;
        this.afterStop = options.afterStopHooks;
        this.drain = new Drain(node.id(), links, parts.players(), options.drainTimeout, parts.scheduler(), options.ticker,
                closed::get, this::close, parts.timeline());
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
        return new BraidException(Code.INVALID_ARGUMENT, message);
    }

    /** Opens a bidirectional stream to the node a call with this token would reach. */
    public <Q extends MessageLite, R> ClientStream<Q, R> stream(String target, String method, String token,
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

    /** The link cache; unlinks made through it are announced on the topic {@code braid.topic.linkcache.unlink}. */
    public LinkCache linkCache() {
        return links;
    }

    public Pubsub pubsub() {
        return pubsub;
    }

    /**
     * Internal, for braid-gateway (may change without notice): adds what a module knows of a player
     * to this node's part of the monitor's "where is a player?" ({@code /api/players/{token}}), like
     * {@link Builder#playerViewContributor} but once the node runs. Returns what removes it again.
     */
    public Runnable addPlayerViewContributor(io.braid.api.internal.PlayerViewContributor contributor) {
        java.util.Objects.requireNonNull(contributor, "contributor");
        contributors.add(contributor);
        return () -> contributors.remove(contributor);
    }

    /**
     * Internal, for braid-gateway (may change without notice): the durable session records of
     * gateways on this node's control plane. Made on the first call.
     */
    public io.braid.api.internal.GatewaySessionStore gatewaySessions() {
        return plane.gatewaySessions();
    }

    /**
     * Internal, for braid-gateway (may change without notice): the event loops this node's RPC
     * client and server run on. Borrowed: shut down when the node closes, never by the borrower.
     */
    public io.netty.channel.EventLoopGroup eventLoopGroup() {
        return eventLoops;
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
    private Node changeRecord(UnaryOperator<Node> change) {
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
        return drain.start(() -> changeRecord(current -> current.withState(NodeState.DRAINING)));
    }

    /**
     * Closes the node, in this order: fence (token calls get UNAVAILABLE from now on), the
     * {@code beforeStop} hooks, the monitor, subscriptions and chores, the election (a follower
     * takes over), the {@link Players players} (each deactivated with CLOSING in its lane, after its
     * running call, waiting at most {@code shutdownGrace}), the RPC server (GoAway, calls in flight
     * finish within {@code shutdownGrace}; a player its lane could not take is deactivated then),
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
            closer.closeAll((part, e) -> log.warn("closing {} of node {} failed", part, node.id(), e));
            runHooks(afterStop, Runnable::run);
        } finally {
            stopped.countDown();
            drain.nodeClosed();
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
        AtomicInteger signals = new AtomicInteger();
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
        Thread.ofVirtual().name("braid-close-" + node.id()).start(this::close);
    }

    /**
     * Settings of a node; each setter validates at once. {@link #start()} checks the whole and
     * copies it: what is set on the builder afterwards changes nothing in the node it started.
     */
    public static final class Builder extends NodeSettings {
        private Builder() {
        }

        /**
         * Starts the node: control plane, RPC server, registration, election. On failure everything
         * started so far is closed again and the failure is thrown.
         *
         * @throws IllegalStateException when {@code service} is missing or settings do not go together
         */
        public Braid start() {
            return NodeStartup.start(new NodeOptions(this));
        }
    }
}
