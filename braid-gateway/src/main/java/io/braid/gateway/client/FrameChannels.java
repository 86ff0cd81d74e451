package io.braid.gateway.client;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.Ping;
import io.braid.gateway.proto.ServerFrame;
import io.braid.gateway.internal.NettyTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * Opens one connection to a gateway with the pipeline of the settings' transport: TLS if set, the
 * framing (length prefix, or the WebSocket handshake and binary messages), keepalive (a Ping when
 * nothing was written for {@code pingEvery}; the connection closed when nothing was read for three
 * times that; {@link #ping} writes one at once), then a handler that reports to a {@link Listener}.
 * Every channel is on one event loop, so the listener's callbacks never run concurrently.
 */
final class FrameChannels {
    /** What a connection reports; all on the event loop. */
    interface Listener {
        /** The connection can carry frames (TCP connected; the WebSocket handshake is done). */
        void onReady(Channel channel);

        void onFrame(Channel channel, ServerFrame frame);

        /** The connection ended; {@code reason} says why as well as it is known. */
        void onClosed(Channel channel, String reason);
    }

    private static final int MAX_HANDSHAKE_BYTES = 16 * 1024;

    private final ClientSettings settings;
    private final EventLoop loop;
    private final Listener listener;

    FrameChannels(ClientSettings settings, EventLoop loop, Listener listener) {
        this.settings = settings;
        this.loop = loop;
        this.listener = listener;
    }

    /** Starts connecting to {@code address}; the returned future is the TCP connect. */
    ChannelFuture open(InetSocketAddress address) {
        return new Bootstrap().group(loop).channel(NettyTransport.socketChannel(loop.parent()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        settings.connectTimeout().toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        pipeline(channel, address);
                    }
                })
                .connect(address);
    }

    private void pipeline(SocketChannel channel, InetSocketAddress address) {
        ChannelPipeline pipeline = channel.pipeline();
        if (settings.tls() != null) {
            SslHandler tls = settings.tls().newHandler(channel.alloc(), address.getHostString(), address.getPort());
            SSLEngine engine = tls.engine();
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
            tls.setHandshakeTimeoutMillis(settings.connectTimeout().toMillis());
            pipeline.addLast("tls", tls);
        }
        long pingMillis = settings.pingEvery().toMillis();
        pipeline.addLast("idle", new IdleStateHandler(3 * pingMillis, pingMillis, 0, TimeUnit.MILLISECONDS));
        if (settings.transport() == Transport.TCP) {
            pipeline.addLast("frames", new LengthFieldBasedFrameDecoder(settings.maxFrameBytes() + 4, 0, 4, 0, 4));
            pipeline.addLast("codec", new TcpCodec());
        } else {
            WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                    .webSocketUri(webSocketUri(address))
                    .version(WebSocketVersion.V13)
                    .allowExtensions(false)
                    .maxFramePayloadLength(settings.maxFrameBytes())
                    .handshakeTimeoutMillis(settings.connectTimeout().toMillis())
                    .build();
            pipeline.addLast("http", new HttpClientCodec());
            pipeline.addLast("handshake-aggregator", new HttpObjectAggregator(MAX_HANDSHAKE_BYTES));
            pipeline.addLast("websocket", new WebSocketClientProtocolHandler(config));
            pipeline.addLast("fragments", new WebSocketFrameAggregator(settings.maxFrameBytes()));
            pipeline.addLast("codec", new WebSocketCodec());
        }
        // One flush per event-loop turn: calls made in a burst (from another thread, or from the
        // callbacks of the answers one read brought) leave in one write, not one each.
        pipeline.addLast("flushes", new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        pipeline.addLast("client", new Reporter());
    }

    /**
     * Writes a Ping on {@code channel} at once, with the connection's next keepalive nonce. Call it on
     * the loop, with a channel this opened.
     */
    void ping(Channel channel) {
        Reporter reporter = channel.pipeline().get(Reporter.class);
        if (reporter != null) {
            reporter.ping(channel);
        }
    }

    private URI webSocketUri(InetSocketAddress address) {
        try {
            return new URI(settings.tls() == null ? "ws" : "wss", null, address.getHostString(), address.getPort(),
                    settings.webSocketPath(), null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("no WebSocket URI for " + address + settings.webSocketPath(), e);
        }
    }

    /**
     * Reads a frame from one copy of its bytes, which its bytes fields then share. (Not through an
     * InputStream: its stream decoder's 4 KiB buffer per frame was most of what a client allocated
     * per call.)
     */
    private static ServerFrame parse(ByteBuf bytes) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(ByteBufUtil.getBytes(bytes));
        in.enableAliasing(true); // the array is this frame's alone
        ServerFrame frame = ServerFrame.parseFrom(in);
        in.checkLastTagWas(0);
        return frame;
    }

    /**
     * {@code frame} serialized into one pooled heap buffer of exactly its size (protobuf writes an
     * array without NIO views), after a 4-byte length prefix when {@code prefixed}: one buffer and
     * one write per frame.
     */
    static ByteBuf encode(ByteBufAllocator alloc, ClientFrame frame, boolean prefixed) throws IOException {
        int size = frame.getSerializedSize();
        int header = prefixed ? 4 : 0;
        ByteBuf out = alloc.heapBuffer(header + size);
        try {
            if (prefixed) {
                out.writeInt(size);
            }
            CodedOutputStream coded = CodedOutputStream.newInstance(out.array(), out.arrayOffset() + header, size);
            frame.writeTo(coded);
            coded.checkNoSpaceLeft();
            out.writerIndex(header + size);
            return out;
        } catch (IOException | RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Length-prefixed protobuf frames: the decoder before it takes the prefix off, the encoder puts it on. */
    private static final class TcpCodec extends MessageToMessageCodec<ByteBuf, ClientFrame> {
        @Override
        protected void encode(ChannelHandlerContext ctx, ClientFrame frame, List<Object> out) throws IOException {
            out.add(FrameChannels.encode(ctx.alloc(), frame, true));
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf bytes, List<Object> out) throws IOException {
            out.add(parse(bytes));
        }
    }

    /** Binary messages out; binary (or, should the gateway send them, JSON text) messages in. */
    private static final class WebSocketCodec extends MessageToMessageCodec<WebSocketFrame, ClientFrame> {
        @Override
        protected void encode(ChannelHandlerContext ctx, ClientFrame frame, List<Object> out) throws IOException {
            out.add(new BinaryWebSocketFrame(FrameChannels.encode(ctx.alloc(), frame, false)));
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, WebSocketFrame message, List<Object> out)
                throws IOException {
            if (message instanceof BinaryWebSocketFrame binary) {
                out.add(parse(binary.content()));
            } else if (message instanceof TextWebSocketFrame text) {
                ServerFrame.Builder frame = ServerFrame.newBuilder();
                try {
                    JsonFormat.parser().ignoringUnknownFields().merge(text.text(), frame);
                } catch (InvalidProtocolBufferException e) {
                    throw new IOException("gateway sent text that is not a frame: " + e.getMessage(), e);
                }
                out.add(frame.build());
            }
            // control frames (ping, pong, close) are the protocol handler's
        }
    }

    /** The pipeline's end: frames, readiness, keepalive and the close go to the listener. */
    private final class Reporter extends SimpleChannelInboundHandler<ServerFrame> {
        private String failure;
        private long pings;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            super.channelActive(ctx);
            if (settings.transport() == Transport.TCP) {
                listener.onReady(ctx.channel());
            }
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ServerFrame frame) {
            listener.onFrame(ctx.channel(), frame);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                listener.onReady(ctx.channel());
            } else if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
                failure = "WebSocket handshake timed out";
            } else if (event instanceof IdleStateEvent idle) {
                if (idle.state() == IdleState.READER_IDLE) {
                    failure = "nothing from the gateway for " + 3 * settings.pingEvery().toMillis() + " ms";
                    ctx.close();
                } else if (idle.state() == IdleState.WRITER_IDLE) {
                    ping(ctx.channel());
                }
            }
            super.userEventTriggered(ctx, event);
        }

        /** A Ping with this connection's next nonce (1, 2, 3, ...). */
        void ping(Channel channel) {
            channel.writeAndFlush(ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(++pings)).build());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (failure == null) {
                failure = String.valueOf(cause);
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            listener.onClosed(ctx.channel(), failure == null ? "connection closed" : failure);
            super.channelInactive(ctx);
        }
    }
}
