package io.braid.rpc.internal;

import io.braid.api.Node;
import io.braid.rpc.internal.balance.EjectionMarks;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;

/**
 * Makes client connections: the pipeline (TLS, keep-alive, frame codec, call correlation), the
 * connect and handshake outcome (which feeds the ejection marks), and the set of open channels
 * that a closing client waits on.
 */
final class ClientChannels {
    private final Bootstrap bootstrap;
    private final SslContext tls;
    private final int maxFrameBytes;
    private final Duration pingInterval;
    private final Duration keepAliveTimeout;
    private final String callerId;
    private final EjectionMarks marks;
    private final PendingCall.Retrier retrier;
    private final FrameEncoder encoder;
    private final ChannelGroup open = new DefaultChannelGroup("braid-rpc-client", GlobalEventExecutor.INSTANCE);

    ClientChannels(EventLoopGroup group, SslContext tls, int maxFrameBytes, Duration connectTimeout,
                          Duration pingInterval, Duration keepAliveTimeout, String callerId, EjectionMarks marks,
                          PendingCall.Retrier retrier) {
        this.tls = tls;
        this.maxFrameBytes = maxFrameBytes;
        this.pingInterval = pingInterval;
        this.keepAliveTimeout = keepAliveTimeout;
        this.callerId = callerId;
        this.marks = marks;
        this.retrier = retrier;
        this.encoder = new FrameEncoder(maxFrameBytes);
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(Transports.socketChannel(group))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    }

    /** Starts a connection to the pool's node; calls sent to it wait until it is ready. */
    ClientConnection connect(PeerPool pool) {
        Node node = pool.node();
        ClientConnection connection = new ClientConnection(pool, retrier, maxFrameBytes, callerId);
        ChannelFuture connected = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel channel) {
                ChannelPipeline pipeline = channel.pipeline();
                if (tls != null) {
                    SslHandler handler = tls.newHandler(channel.alloc(), node.host(), node.port());
                    SSLParameters parameters = handler.engine().getSSLParameters();
                    if (parameters.getEndpointIdentificationAlgorithm() == null) {
                        // Netty 4.1 does not check the server's name unless asked: any certificate
                        // the trusted authority issued would pass. Check it against the node's host.
                        parameters.setEndpointIdentificationAlgorithm("HTTPS");
                        handler.engine().setSSLParameters(parameters);
                    }
                    pipeline.addLast("tls", handler);
                }
                pipeline.addLast("keepAlive", new IdleStateHandler(keepAliveTimeout.toMillis(), 0,
                        pingInterval.toMillis(), TimeUnit.MILLISECONDS));
                pipeline.addLast("frameDecoder", new FrameDecoder(maxFrameBytes));
                pipeline.addLast("frameEncoder", encoder);
                pipeline.addLast("calls", connection);
            }
        }).connect(node.host(), node.port());
        Channel channel = connected.channel();
        connection.bind(channel);
        open.add(channel);
        connected.addListener(done -> {
            if (!done.isSuccess()) {
                marks.markFailure(node.id());
                connection.onConnectFailed(done.cause());
                return;
            }
            SslHandler ssl = channel.pipeline().get(SslHandler.class);
            if (ssl == null) {
                marks.markSuccess(node.id());
                connection.onReady();
                return;
            }
            ssl.handshakeFuture().addListener(handshake -> {
                if (handshake.isSuccess()) {
                    marks.markSuccess(node.id());
                    connection.onReady();
                } else {
                    marks.markFailure(node.id());
                    connection.onConnectFailed(handshake.cause());
                    channel.close();
                }
            });
        });
        return connection;
    }

    /** Waits up to {@code timeout} for every connection made so far to close. */
    void awaitClosed(Duration timeout) {
        open.newCloseFuture().awaitUninterruptibly(timeout.toMillis());
    }
}
