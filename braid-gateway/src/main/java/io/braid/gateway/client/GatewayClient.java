package io.braid.gateway.client;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.internal.Checks;
import io.braid.gateway.internal.NettyTransport;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A player's client of braid-gateway (bots, load tests, JVM game clients): logs in, calls routes,
 * receives pushes, and keeps its session across dropped connections by resuming it.
 *
 * <pre>{@code
 * try (GatewayClient client = GatewayClient.builder()
 *         .addresses(List.of(gateway1, gateway2))
 *         .transport(Transport.WEBSOCKET)
 *         .credentials("player:ann".getBytes(UTF_8))
 *         .onPush((seq, payload) -> show(payload))
 *         .onEvent(event -> log(event))
 *         .build()) {
 *     SessionInfo session = client.connect().join();
 *     byte[] answer = client.call("logic.player.act", move).join();
 * }
 * }</pre>
 *
 * <h2>What it guarantees</h2>
 * <ul>
 *   <li><b>Pushes</b> reach the push listener in {@code pushSeq} order, each number of a session at
 *       most once (a push received again, as in a replay overlapping what arrived before a drop, is
 *       counted in {@link ClientStats#duplicatesSuppressed()} and not handed on). A number that is
 *       skipped is never skipped silently: a {@link ClientEvent.Type#GAP} event names it.</li>
 *   <li><b>Resume</b>: when the connection drops, the client reconnects at once to the same gateway,
 *       then to the others in turn with a jittered exponential backoff ({@link Builder#reconnect}),
 *       and sends {@code Resume{resume_token, last_push_seq}}; the gateway replays exactly the missed
 *       pushes ({@link ClientEvent.Type#RESUMED}). On {@code Resumed} it keeps the new resume token and
 *       sends a Ping at once: that first frame proves to the gateway that it got the new token, so the
 *       one it resumed with stops working (it would otherwise resume the session again, should this
 *       connection end before the client's next frame). If the gateway refuses the resume (NOT_FOUND: the
 *       grace ended or its gateway died; RESOURCE_EXHAUSTED: the replay buffer lost pushes;
 *       UNAUTHENTICATED ...), the client logs in afresh with its credentials
 *       ({@link ClientEvent.Type#RELOGGED} naming the reason; push numbers restart at 1). UNAVAILABLE
 *       and DEADLINE_EXCEEDED refusals are retried like a failed connection.</li>
 *   <li><b>Calls</b> ({@link #call}) are matched to their Reply by sequence number. A call made while
 *       the client (re)connects waits and is sent once the session is back (resumed or relogged in);
 *       if that does not happen within {@link Builder#callTimeout} it fails DEADLINE_EXCEEDED, never
 *       having been sent. A call that was sent but whose connection dropped before its Reply fails
 *       UNAVAILABLE: it may or may not have run, and the client never sends it again by itself.</li>
 *   <li><b>Kicked</b> (the player logged in elsewhere): {@link ClientEvent.Type#KICKED}; the client
 *       finishes and does not reconnect. It also finishes when its login is refused, when it gives up
 *       reconnecting after {@code giveUpAfter}, on {@link #logout()} and on {@link #close()}
 *       ({@link ClientEvent.Type#CLOSED}); calls then fail FAILED_PRECONDITION.</li>
 *   <li><b>Keepalive</b>: a Ping whenever nothing was written for {@link Builder#pingEvery} (keep it
 *       under the gateway's idle timeout); a connection from which nothing was read for three times
 *       that is taken for dead, closed and resumed.</li>
 * </ul>
 *
 * <p>Thread safety: all methods may be called from any thread. The push and event listeners run on
 * the client's one event loop, never concurrently, and must not block. {@link #close()} releases
 * everything the client made (its event loop group too, unless borrowed).
 */
public final class GatewayClient implements AutoCloseable {
    public static final String DEFAULT_WEBSOCKET_PATH = "/ws";
    public static final Duration DEFAULT_PING_EVERY = Duration.ofSeconds(20);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RECONNECT_MIN = Duration.ofMillis(100);
    public static final Duration DEFAULT_RECONNECT_MAX = Duration.ofSeconds(5);
    public static final Duration DEFAULT_GIVE_UP_AFTER = Duration.ofMinutes(2);
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
    /** Where {@link #javaScript()} reads the browser client from (a class path resource). */
    public static final String JAVASCRIPT_RESOURCE = "/io/braid/gateway/client/braid-gateway.js";

    private final ClientSettings settings;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final EventLoop loop;
    private final SessionDriver driver;
    private final AtomicBoolean closed = new AtomicBoolean();

    private GatewayClient(ClientSettings settings) {
        this.settings = settings;
        this.ownGroup = settings.eventLoopGroup() == null;
        this.group = ownGroup ? NettyTransport.newGroup(1, "braid-gateway-client") : settings.eventLoopGroup();
        this.loop = group.next();
        this.driver = new SessionDriver(settings, loop);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Logs in (trying the addresses in order, with the reconnect backoff, for up to {@code giveUpAfter}).
     * Completes with the session on LoginOk; fails with the gateway's code when the login is refused
     * (UNAUTHENTICATED ...), UNAVAILABLE when no gateway answered in time, FAILED_PRECONDITION when the
     * client was closed. Calling it again does not connect again: it completes as the first call does.
     */
    public CompletableFuture<SessionInfo> connect() {
        CompletableFuture<SessionInfo> result = new CompletableFuture<>();
        onLoop(result, () -> driver.connect().whenComplete((session, failure) -> {
            if (failure == null) {
                result.complete(session);
            } else {
                result.completeExceptionally(failure);
            }
        }));
        return result;
    }

    /**
     * Calls {@code route} ({@code service.method}, one the gateway's route table allows) with the
     * player's token. Completes with the answer; fails with a {@link BraidException} carrying the
     * Reply's code (NOT_FOUND for a route the gateway does not allow, RESOURCE_EXHAUSTED over the rate
     * limit, the service's own code ...), or as described in the class comment across drops.
     */
    public CompletableFuture<byte[]> call(String route, byte[] payload) {
        Checks.notBlank(route, "route");
        Objects.requireNonNull(payload, "payload");
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        byte[] copy = payload.clone();
        if (loop.inEventLoop()) {
            // From a listener or a call's callback: sent at once, not after a hop through the task queue.
            try {
                driver.call(route, copy, result);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        } else {
            onLoop(result, () -> driver.call(route, copy, result));
        }
        return result;
    }

    /**
     * Leaves for good: sends Logout (the gateway ends the session at once: no resume grace), and
     * finishes the client. Completes when the connection is closed. If the client is not online at
     * that moment it only finishes; the gateway then ends the session when its resume grace passes.
     * Still call {@link #close()} to release the client's threads.
     */
    public CompletableFuture<Void> logout() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        onLoop(done, () -> driver.logout(done));
        return done;
    }

    /** The session logged in to (updated by a relogin), or empty before the first LoginOk. */
    public java.util.Optional<SessionInfo> session() {
        return java.util.Optional.ofNullable(driver.session());
    }

    /** True from the LoginOk or Resumed of a connection until it drops. */
    public boolean isOnline() {
        return driver.state() == SessionDriver.State.ONLINE;
    }

    /** True once the client is finished (kicked, logged out, closed, refused, given up). */
    public boolean isFinished() {
        return driver.state() == SessionDriver.State.FINISHED;
    }

    /** Completes when the client is finished (see {@link ClientEvent.Type#KICKED}, {@link ClientEvent.Type#CLOSED}). */
    public CompletableFuture<Void> whenFinished() {
        return driver.finished().copy();
    }

    /** What the client counted so far. */
    public ClientStats stats() {
        return new ClientStats(driver.pushesReceived.get(), driver.duplicatesSuppressed.get(), driver.gaps.get(),
                driver.pushesMissed.get(), driver.disconnects.get(), driver.resumes.get(), driver.relogins.get());
    }

    /**
     * Closes the connection without a Logout (the gateway keeps the session for its resume grace,
     * then ends it) and releases the client: its event loop group, if it made it, is shut down and
     * its threads have ended when this returns. Idempotent. Must not be called from a listener (it
     * waits for the event loop).
     *
     * @throws IllegalStateException when called on the client's event loop
     */
    @Override
    public void close() {
        if (loop.inEventLoop()) {
            throw new IllegalStateException("GatewayClient.close() called on its own event loop (from a listener?)");
        }
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        onLoop(done, () -> driver.close(done));
        try {
            done.get(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // closing goes on: the group's shutdown below closes what is left
        }
        if (ownGroup) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    /**
     * The browser client ({@code braid-gateway.js}, an ES module without dependencies; see the
     * module README), for a server to serve to its pages, e.g. as {@code text/javascript}.
     */
    public static byte[] javaScript() {
        try (InputStream in = GatewayClient.class.getResourceAsStream(JAVASCRIPT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing class path resource " + JAVASCRIPT_RESOURCE);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void onLoop(CompletableFuture<?> result, Runnable task) {
        try {
            loop.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new BraidException(Code.FAILED_PRECONDITION,
                    "the gateway client is closed"));
        }
    }

    /**
     * Settings of a {@link GatewayClient}; each setter checks its value at once and throws
     * {@link IllegalArgumentException} naming the setting. Required: {@link #addresses} and
     * {@link #credentials}.
     */
    public static final class Builder {
        private List<InetSocketAddress> addresses;
        private Transport transport = Transport.TCP;
        private byte[] credentials;
        private PushListener pushListener = (seq, payload) -> { };
        private Consumer<ClientEvent> eventListener = event -> { };
        private EventLoopGroup eventLoopGroup;
        private SslContext tls;
        private String webSocketPath = DEFAULT_WEBSOCKET_PATH;
        private Duration pingEvery = DEFAULT_PING_EVERY;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
        private Duration reconnectMin = DEFAULT_RECONNECT_MIN;
        private Duration reconnectMax = DEFAULT_RECONNECT_MAX;
        private Duration giveUpAfter = DEFAULT_GIVE_UP_AFTER;
        private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;

        private Builder() {
        }

        /** The gateways, in the order tried: the first for the first login; after a drop the current one, then the next. */
        public Builder addresses(List<InetSocketAddress> addresses) {
            Objects.requireNonNull(addresses, "addresses");
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("addresses must name at least one gateway");
            }
            for (InetSocketAddress address : addresses) {
                Objects.requireNonNull(address, "addresses must not contain null");
                if (address.getPort() == 0) {
                    throw new IllegalArgumentException("addresses: " + address + " has no port");
                }
            }
            this.addresses = List.copyOf(addresses);
            return this;
        }

        /** {@link Transport#TCP} (the default) or {@link Transport#WEBSOCKET}. */
        public Builder transport(Transport transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /** What the Login frame carries to the gateway's login hook (copied); sent again on a relogin. */
        public Builder credentials(byte[] credentials) {
            Objects.requireNonNull(credentials, "credentials");
            if (credentials.length == 0) {
                throw new IllegalArgumentException("credentials must not be empty");
            }
            this.credentials = credentials.clone();
            return this;
        }

        /** Receives the pushes (see {@link PushListener}); the default drops them. */
        public Builder onPush(PushListener listener) {
            this.pushListener = Objects.requireNonNull(listener, "onPush");
            return this;
        }

        /** Receives the session's events (see {@link ClientEvent}); on the event loop, must not block. */
        public Builder onEvent(Consumer<ClientEvent> listener) {
            this.eventListener = Objects.requireNonNull(listener, "onEvent");
            return this;
        }

        /**
         * An NIO or epoll event loop group to borrow (bots share one among many clients); the client
         * uses one of its loops and never shuts it down. Default: a group of one thread of its own
         * (epoll where it loads, else NIO).
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            Objects.requireNonNull(group, "eventLoopGroup");
            if (!(group instanceof NioEventLoopGroup) && !(group instanceof EpollEventLoopGroup)) {
                throw new IllegalArgumentException("eventLoopGroup must be a NioEventLoopGroup or an EpollEventLoopGroup, was "
                        + group.getClass().getName());
            }
            this.eventLoopGroup = group;
            return this;
        }

        /**
         * TLS with a client context ({@code SslContextBuilder.forClient()}); the gateway's certificate
         * is checked against the address's host name. WebSocket then uses {@code wss://}.
         */
        public Builder tls(SslContext clientContext) {
            Objects.requireNonNull(clientContext, "tls");
            if (!clientContext.isClient()) {
                throw new IllegalArgumentException("tls needs a client SslContext (SslContextBuilder.forClient())");
            }
            this.tls = clientContext;
            return this;
        }

        /** The gateway's WebSocket path (default {@value #DEFAULT_WEBSOCKET_PATH}). */
        public Builder webSocketPath(String path) {
            Checks.notBlank(path, "webSocketPath");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("webSocketPath must start with '/', was " + path);
            }
            this.webSocketPath = path;
            return this;
        }

        /** A Ping when nothing was written for this long (default 20 s; keep it under the gateway's idle timeout). */
        public Builder pingEvery(Duration every) {
            Checks.positive(every, "pingEvery");
            if (every.toMillis() < 10) {
                throw new IllegalArgumentException("pingEvery must be at least 10 ms, was " + every);
            }
            this.pingEvery = every;
            return this;
        }

        /** How long one attempt may take: connect, TLS and WebSocket handshakes, and the answer to Login / Resume (default 10 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Checks.positive(timeout, "connectTimeout");
            return this;
        }

        /** Each call's deadline from {@link #call}, waiting for a reconnect included (default 10 s). */
        public Builder callTimeout(Duration timeout) {
            this.callTimeout = Checks.positive(timeout, "callTimeout");
            return this;
        }

        /**
         * Reconnecting: after a drop the same gateway at once, then after each failed attempt the next
         * gateway after a delay doubling from {@code min} to {@code max} (jittered into its upper half);
         * finished (CLOSED) when no session is back {@code giveUpAfter} after the drop. The same applies
         * to the first {@link #connect()}. {@code giveUpAfter} zero: never reconnect (and one attempt to
         * connect). Defaults: 100 ms, 5 s, 2 min.
         */
        public Builder reconnect(Duration min, Duration max, Duration giveUpAfter) {
            Checks.positive(min, "reconnect min");
            Checks.positive(max, "reconnect max");
            Checks.notNegative(giveUpAfter, "giveUpAfter");
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("reconnect max (" + max + ") must not be below min (" + min + ")");
            }
            this.reconnectMin = min;
            this.reconnectMax = max;
            this.giveUpAfter = giveUpAfter;
            return this;
        }

        /** The largest frame accepted from the gateway, 1 .. 16 MiB (default 16 MiB). */
        public Builder maxFrameBytes(int bytes) {
            this.maxFrameBytes = Checks.inRange(bytes, 1, DEFAULT_MAX_FRAME_BYTES, "maxFrameBytes");
            return this;
        }

        /** The client, not yet connected (see {@link GatewayClient#connect()}). */
        public GatewayClient build() {
            if (addresses == null) {
                throw new IllegalStateException("addresses are required");
            }
            if (credentials == null) {
                throw new IllegalStateException("credentials are required");
            }
            return new GatewayClient(new ClientSettings(addresses, transport, credentials.clone(), pushListener,
                    eventListener, eventLoopGroup, tls, webSocketPath, pingEvery, connectTimeout, callTimeout,
                    reconnectMin, reconnectMax, giveUpAfter, maxFrameBytes));
        }
    }
}
