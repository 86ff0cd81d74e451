package io.braid.gateway.internal;

import io.braid.runtime.Braid;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The running parts of one gateway: its front ends (WebSocket and/or TCP listeners), their
 * connections, and the {@link Binder}. Pipelines, one handler per concern: TLS (when set) → idle timeout → framing
 * with a maximum size (length prefix for TCP; HTTP, origin gate, WebSocket handshake and message
 * aggregation for WebSocket) → frame codec → flush consolidation → {@link ConnectionHandler}; the
 * players' rate limits ({@link PlayerRateLimits}), shared by their connections. Thread-safe;
 * {@link #close()} is idempotent.
 */
public final class GatewayCore implements AutoCloseable {
    private static final int MAX_HANDSHAKE_BYTES = 16 * 1024;

    private final GatewaySettings settings;
    private final Braid braid;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Binder binder;
    private final ChannelGroup connections = new DefaultChannelGroup("braid-gateway", GlobalEventExecutor.INSTANCE);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final GatewayMeters meters;
    private final PlayerRateLimits rateLimits;
    private Channel webSocketListener;
    private Channel tcpListener;

    private GatewayCore(GatewaySettings settings, Braid braid) {
        this.settings = settings;
        this.braid = braid;
        this.ownGroup = settings.eventLoopGroup() == null;
        // Native epoll where it loads, as braid's own nodes: fewer objects and less selector work
        // per read and write than NIO. A borrowed group decides for itself (the channel follows it).
        this.group = ownGroup ? NettyTransport.newGroup(settings.ioThreads(), "braid-gateway-" + braid.node().id())
                : settings.eventLoopGroup();
        this.meters = new GatewayMeters(braid.meterRegistry(), braid.node().service(), this::sessionsIn);
        SessionEvents events = new SessionEvents(braid.node().id(), braid.pubsub(), settings.sessionListener(),
                System::currentTimeMillis, meters);
        this.binder = new Binder(braid, events, group, settings, meters);
        this.rateLimits = new PlayerRateLimits(settings.rateLimits(), settings.ticker(),
                (task, delayNanos) -> group.schedule(task, delayNanos, TimeUnit.NANOSECONDS));
    }

    /** The sessions here in {@code state}, for the sessions gauge (0 before the binder exists). */
    private double sessionsIn(Session.State state) {
        Binder sessions = binder;
        return sessions == null ? 0 : sessions.countIn(state);
    }

    /**
     * Registers the gateway's methods on {@code braid} and opens the front ends.
     *
     * @throws IllegalStateException when the node already runs a gateway, or a port cannot be bound
     */
    public static GatewayCore start(GatewaySettings settings, Braid braid) {
        GatewayCore core = new GatewayCore(settings, braid);
        try {
            core.binder.register();
        } catch (RuntimeException e) {
            core.close();
            throw new IllegalStateException("cannot start a gateway on node " + braid.node().id()
                    + " (does it already run one?): " + e.getMessage(), e);
        }
        try {
            if (settings.webSocketPort() >= 0) {
                core.webSocketListener = core.listen(settings.webSocketPort(), core.webSocketPipeline());
            }
            if (settings.tcpPort() >= 0) {
                core.tcpListener = core.listen(settings.tcpPort(), core.tcpPipeline());
            }
            return core;
        } catch (RuntimeException e) {
            core.close();
            throw e;
        }
    }

    private Channel listen(int port, ChannelHandler pipeline) {
        try {
            return new ServerBootstrap().group(group).channel(NettyTransport.serverChannel(group)).childHandler(pipeline)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(settings.maxPendingBytes() / 2, settings.maxPendingBytes()))
                    .bind(settings.host(), port).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + settings.host() + ":" + port, e);
        } catch (Exception e) { // a failed bind arrives as a checked BindException
            throw new IllegalStateException("gateway cannot listen on " + settings.host() + ":" + port + ": " + e, e);
        }
    }

    private ChannelHandler webSocketPipeline() {
        HttpGate gate = new HttpGate(settings.webSocketPath(), settings.allowedOrigins());
        WebSocketServerProtocolConfig webSocket = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(settings.webSocketPath())
                .checkStartsWith(false)
                .decoderConfig(WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(settings.maxFrameBytes())
                        .allowExtensions(false).build())
                .handshakeTimeoutMillis(settings.loginTimeout().toMillis())
                .build();
        return new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel channel) {
                connections.add(channel);
                addTls(channel);
                channel.pipeline()
                        .addLast("idle", idleHandler())
                        .addLast("http", new HttpServerCodec())
                        .addLast("http-aggregate", new HttpObjectAggregator(MAX_HANDSHAKE_BYTES))
                        .addLast("gate", gate)
                        .addLast("websocket", new WebSocketServerProtocolHandler(webSocket))
                        .addLast("message-aggregate", new WebSocketFrameAggregator(settings.maxFrameBytes()))
                        .addLast("frames", new WebSocketFrameCodec())
                        .addLast("flushes", flushes())
                        .addLast("connection", new ConnectionHandler(settings, braid, binder, rateLimits));
            }
        };
    }

    private ChannelHandler tcpPipeline() {
        return new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel channel) {
                connections.add(channel);
                addTls(channel);
                channel.pipeline()
                        .addLast("idle", idleHandler())
                        .addLast("length", new LengthFieldBasedFrameDecoder(ByteOrder.BIG_ENDIAN,
                                settings.maxFrameBytes() + 4, 0, 4, 0, 4, true))
                        .addLast("frames", new TcpFrameCodec())
                        .addLast("flushes", flushes())
                        .addLast("connection", new ConnectionHandler(settings, braid, binder, rateLimits));
            }
        };
    }

    /** TLS first in the pipeline when the gateway has a server context; its handshake must end within the login timeout. */
    private void addTls(SocketChannel channel) {
        if (settings.tls() != null) {
            SslHandler tls = settings.tls().newHandler(channel.alloc());
            tls.setHandshakeTimeoutMillis(settings.loginTimeout().toMillis());
            channel.pipeline().addLast("tls", tls);
        }
    }

    /**
     * One flush (one write syscall) per event-loop turn instead of one per frame: frames written
     * while the connection's read is under way go out at its end; replies and pushes written from
     * other threads (a call's answer arrives on the node's RPC thread) go out together in one task
     * after them. A client with 64 calls in flight gets its answers in a few writes, not 64.
     */
    private static FlushConsolidationHandler flushes() {
        return new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true);
    }

    private IdleStateHandler idleHandler() {
        return new IdleStateHandler(settings.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS);
    }

    public Optional<InetSocketAddress> webSocketAddress() {
        return Optional.ofNullable(webSocketListener).map(channel -> (InetSocketAddress) channel.localAddress());
    }

    public Optional<InetSocketAddress> tcpAddress() {
        return Optional.ofNullable(tcpListener).map(channel -> (InetSocketAddress) channel.localAddress());
    }

    /** Sessions bound to this gateway now. */
    public int sessionCount() {
        return binder.sessionCount();
    }

    /** Open client connections, logged in or not. */
    public int connectionCount() {
        return connections.size();
    }

    /**
     * Stops as if the process died, for tests of a gateway's death in one JVM: the binder stops
     * writing anything (no session ends, no event, no unlink, no record changes), then the
     * listeners and every connection are dropped and the event loops shut down. The node is left to
     * the caller (a test closes it abruptly or not at all). Idempotent with {@link #close()}.
     */
    public void crash() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        binder.crash();
        meters.close();
        if (webSocketListener != null) {
            webSocketListener.close().syncUninterruptibly();
        }
        if (tcpListener != null) {
            tcpListener.close().syncUninterruptibly();
        }
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        rateLimits.close();
        if (ownGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * Stops listening, closes every connection (each bound session ends CLOSED and is unbound
     * unless it moved), and shuts down the gateway's own event loops (a borrowed group stays).
     * Does not close the node. Idempotent; must not be called on an event loop.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        binder.close();
        if (webSocketListener != null) {
            webSocketListener.close().syncUninterruptibly();
        }
        if (tcpListener != null) {
            tcpListener.close().syncUninterruptibly();
        }
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        binder.awaitEnds(5, TimeUnit.SECONDS);
        rateLimits.close();
        meters.close();
        if (ownGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
