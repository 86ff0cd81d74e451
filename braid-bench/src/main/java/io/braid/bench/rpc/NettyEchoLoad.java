package io.braid.bench.rpc;

import io.braid.bench.core.Load;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The floor: length-prefixed frames over plain Netty, answers matched to requests by order on
 * each connection, nothing else in the way. Written the way a careful Netty user would: a request
 * started on the event loop (the usual case, from the previous answer) is written at once and
 * flushed with the rest of that read; one started elsewhere is handed to the event loop.
 * Operations go round robin over the connections.
 */
final class NettyEchoLoad implements Load {
    private final EventLoopGroup group = NettyTransport.group("netty-echo-client");
    private final Connection[] connections;
    private final AtomicInteger next = new AtomicInteger();

    NettyEchoLoad(int port, int connectionCount, byte[] payload) throws InterruptedException {
        connections = new Connection[connectionCount];
        try {
            for (int i = 0; i < connectionCount; i++) {
                connections[i] = new Connection(payload);
                Connection connection = connections[i];
                connection.channel = new Bootstrap().group(group).channel(NettyTransport.socketChannel(group))
                        .option(ChannelOption.TCP_NODELAY, true)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 0),
                                        connection);
                            }
                        }).connect(ServerMain.HOST, port).sync().channel();
            }
        } catch (InterruptedException | RuntimeException e) {
            NettyTransport.shutdown(group);
            throw e;
        }
    }

    @Override
    public void start(Done done) {
        Connection connection = connections.length == 1 ? connections[0]
                : connections[Math.floorMod(next.getAndIncrement(), connections.length)];
        connection.send(done);
    }

    @Override
    public void close() {
        for (Connection connection : connections) {
            if (connection != null && connection.channel != null) {
                connection.channel.close().syncUninterruptibly();
            }
        }
        NettyTransport.shutdown(group);
    }

    private static final class Connection extends SimpleChannelInboundHandler<ByteBuf> {
        private final byte[] payload;
        private final ArrayDeque<Done> waiting = new ArrayDeque<>(); // event loop only
        private Channel channel;
        private boolean reading;

        Connection(byte[] payload) {
            this.payload = payload;
        }

        void send(Done done) {
            if (channel.eventLoop().inEventLoop()) {
                write(done, !reading);
            } else {
                channel.eventLoop().execute(() -> write(done, true));
            }
        }

        private void write(Done done, boolean flush) {
            if (!channel.isActive()) {
                done.done(new ClosedChannelException());
                return;
            }
            waiting.add(done);
            ByteBuf frame = channel.alloc().ioBuffer(4 + payload.length).writeInt(payload.length).writeBytes(payload);
            if (flush) {
                channel.writeAndFlush(frame, channel.voidPromise());
            } else {
                channel.write(frame, channel.voidPromise());
            }
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            reading = true;
            Done done = waiting.poll();
            if (done != null) {
                done.done(null);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            reading = false;
            ctx.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failAll(new ClosedChannelException());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failAll(cause instanceof IOException ? cause : new IOException(cause));
            ctx.close();
        }

        private void failAll(Throwable cause) {
            Done done;
            while ((done = waiting.poll()) != null) {
                done.done(cause);
            }
        }
    }
}
