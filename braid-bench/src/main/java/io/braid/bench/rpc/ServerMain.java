package io.braid.bench.rpc;

import com.google.protobuf.BytesValue;
import io.braid.bench.core.ThisJvm;
import io.braid.bench.core.Usage;
import io.braid.rpc.internal.RpcServer;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The serving side of an echo cell, in a JVM of its own so that its CPU time and allocation are
 * counted apart from the load generator's. Started by {@link ServerProcess} as
 * {@code ServerMain <kind>}; every server kind binds 127.0.0.1 on a free port and runs one
 * event-loop thread.
 *
 * <p>Protocol on stdin/stdout, one line each way: the server prints {@code ready <port>} once it
 * accepts connections; {@code usage} is answered with {@code usage <cpuNanos> <allocatedBytes>}
 * (this JVM's process CPU time and the bytes all its threads allocated); {@code exit} or the end
 * of stdin (the bench JVM is gone) stops the server and the JVM. Logs go to stderr.
 */
public final class ServerMain {
    /** The method every echo server answers (braid method name; gRPC uses {@link GrpcEcho#METHOD}). */
    static final String ECHO = "echo";
    public static final String HOST = "127.0.0.1";
    private static final int MAX_FRAME = 1 << 20;

    private ServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ServerMain <netty-echo|braid-virtual-thread|braid-thread-per-call|braid-inline|grpc-direct|grpc-default|braid-lanes>");
            System.exit(2);
        }
        ServerKind kind = ServerKind.of(args[0]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.setOut(System.err); // stdout carries the protocol only
        try (Running server = start(kind)) {
            out.println("ready " + server.port());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.equals("exit")) {
                if (line.equals("usage")) {
                    Usage usage = ThisJvm.METER.read();
                    out.printf(Locale.ROOT, "usage %d %d%n", usage.cpuNanos(), usage.allocatedBytes());
                } else {
                    out.println("error unknown command " + line);
                }
            }
        }
        System.exit(0);
    }

    /** A started echo server. */
    interface Running extends AutoCloseable {
        int port();

        @Override
        void close() throws Exception;
    }

    static Running start(ServerKind kind) throws Exception {
        return switch (kind) {
            case NETTY_ECHO -> nettyEcho();
            case BRAID_VIRTUAL_THREAD -> braid(false, false);
            case BRAID_THREAD_PER_CALL -> braid(false, true);
            case BRAID_INLINE -> braid(true, false);
            case GRPC_DIRECT -> grpc(true);
            case GRPC_DEFAULT -> grpc(false);
            case BRAID_LANES -> braidLanes();
        };
    }

    /** @param threadPerCall blocking handlers on a new virtual thread per call (braid's executor before issue 18) */
    private static Running braid(boolean inline, boolean threadPerCall) {
        RpcServer.Builder builder = RpcServer.builder().host(HOST).port(0).ioThreads(1);
        if (threadPerCall) {
            java.util.concurrent.ThreadFactory virtual = Thread.ofVirtual().factory();
            builder.blockingExecutor(task -> virtual.newThread(task).start());
        }
        RpcServer server = builder.build();
        if (inline) {
            server.handleAsync(ECHO, BytesValue.parser(), (ctx, request) -> CompletableFuture.completedFuture(request));
        } else {
            server.handle(ECHO, BytesValue.parser(), (ctx, request) -> request);
        }
        server.start();
        return new Running() {
            @Override
            public int port() {
                return server.port();
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }

    /** The methods of {@link ServerKind#BRAID_LANES}: the echo without a lane and in a lane, both handler kinds. */
    public static final String ECHO_INLINE = ECHO;
    public static final String ECHO_LANE = "echo.lane";
    public static final String ECHO_BLOCKING = "echo.blocking";
    public static final String ECHO_LANE_BLOCKING = "echo.lane.blocking";

    private static Running braidLanes() {
        RpcServer server = RpcServer.builder().host(HOST).port(0).ioThreads(1).build();
        server.handleAsync(ECHO, BytesValue.parser(), (ctx, request) -> CompletableFuture.completedFuture(request));
        server.handleAsyncInLane(ECHO_LANE, BytesValue.parser(),
                (ctx, request) -> CompletableFuture.completedFuture(request));
        server.handle(ECHO_BLOCKING, BytesValue.parser(), (ctx, request) -> request);
        server.handleInLane(ECHO_LANE_BLOCKING, BytesValue.parser(), (ctx, request) -> request);
        server.start();
        return new Running() {
            @Override
            public int port() {
                return server.port();
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }

    private static Running grpc(boolean directExecutor) throws Exception {
        var group = GrpcEcho.group("grpc-server");
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(HOST, 0))
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .channelType(GrpcEcho.serverChannel(group))
                .addService(ServerServiceDefinition.builder("bench.Echo")
                        .addMethod(GrpcEcho.METHOD, ServerCalls.asyncUnaryCall((request, response) -> {
                            response.onNext(request);
                            response.onCompleted();
                        }))
                        .build());
        if (directExecutor) {
            builder.directExecutor();
        }
        Server server = builder.build().start();
        return new Running() {
            @Override
            public int port() {
                return server.getPort();
            }

            @Override
            public void close() throws InterruptedException {
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                GrpcEcho.shutdown(group);
            }
        };
    }

    /** Frames are echoed whole, length prefix included: one buffer in, the same buffer out. */
    private static Running nettyEcho() throws InterruptedException {
        EventLoopGroup group = NettyTransport.group("netty-echo-server");
        Channel listener = new ServerBootstrap().group(group).channel(NettyTransport.serverChannel(group))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, 4, 0, 0),
                                new SimpleChannelInboundHandler<ByteBuf>(false) {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
                                        ctx.write(frame);
                                    }

                                    @Override
                                    public void channelReadComplete(ChannelHandlerContext ctx) {
                                        ctx.flush();
                                    }
                                });
                    }
                }).bind(HOST, 0).sync().channel();
        return new Running() {
            @Override
            public int port() {
                return ((InetSocketAddress) listener.localAddress()).getPort();
            }

            @Override
            public void close() {
                listener.close().syncUninterruptibly();
                NettyTransport.shutdown(group);
            }
        };
    }
}
