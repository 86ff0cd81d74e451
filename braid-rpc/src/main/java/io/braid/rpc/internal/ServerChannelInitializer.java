package io.braid.rpc.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of every connection a server accepts, one Netty handler per concern: the
 * connection cap ({@link ConnectionLimiter}), TLS when set, the idle timeout, the frame-read
 * timeout, the frame decoder and encoder, then the {@link ServerConnectionHandler} that serves the
 * calls. Each new connection joins {@link ServerConnections}; one accepted while the server shuts
 * down is sent GoAway at once. Shared by all connections of one server (thread-safe).
 */
@io.netty.channel.ChannelHandler.Sharable
public final class ServerChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final ServerOptions options;
    private final ServerConfig config;
    private final ConnectionLimiter limiter;
    private final ServerConnections connections;
    private final FrameEncoder encoder;

    public ServerChannelInitializer(ServerOptions options, ServerConfig config, ConnectionLimiter limiter,
                                    ServerConnections connections) {
        this.options = options;
        this.config = config;
        this.limiter = limiter;
        this.connections = connections;
        this.encoder = new FrameEncoder(options.maxFrameBytes());
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        if (!limiter.admit(channel)) {
            return; // past maxConnections: already closed
        }
        ChannelPipeline pipeline = channel.pipeline();
        SslContext tls = options.tls();
        if (tls != null) {
            pipeline.addLast("tls", tls.newHandler(channel.alloc()));
        }
        ServerConnectionHandler connection = new ServerConnectionHandler(config);
        pipeline.addLast("idle", new IdleStateHandler(options.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        pipeline.addLast("frameReadTimeout", new FrameReadTimeout(options.frameReadTimeout(), options.ticker()));
        pipeline.addLast("frameDecoder", new FrameDecoder(options.maxFrameBytes()));
        pipeline.addLast("frameEncoder", encoder);
        pipeline.addLast("calls", connection);
        connections.add(connection);
    }
}
