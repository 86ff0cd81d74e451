package io.braid.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import io.braid.api.Node;
import io.braid.rpc.RpcClient;
import io.braid.rpc.RpcServer;
import io.braid.rpc.StaticDiscover;
import io.braid.rpc.internal.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * A quick closed-loop echo load: 64-byte payloads, a fixed number of calls in flight on one
 * connection, braid (virtual-thread and inline handlers) next to a bare Netty length-prefixed echo
 * measured in the same run as the baseline. Server and client share this JVM and the loopback.
 *
 * <p>Usage: {@code EchoLoad [warmupSeconds] [measureSeconds] [payloadBytes]}.
 */
public final class EchoLoad {
    private EchoLoad() {
    }

    record Result(String name, int inFlight, double callsPerSecond, double p50Micros, double p99Micros) {
    }

    interface Target extends AutoCloseable {
        /** Sends one request; completes when its answer arrives. */
        void call(Runnable onDone);
    }

    public static void main(String[] args) throws Exception {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int measure = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int payloadBytes = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        byte[] payload = new byte[payloadBytes];
        System.out.printf(Locale.ROOT, "echo %d B, warm-up %d s, measure %d s, %d cores, %s%n", payloadBytes, warmup,
                measure, Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.printf(Locale.ROOT, "%-22s %9s %12s %10s %10s %8s%n", "cell", "in-flight", "calls/s", "p50 us",
                "p99 us", "vs netty");
        for (int inFlight : new int[] {1, 64}) {
            Result netty;
            try (Target target = bareNetty(payload)) {
                netty = run("bare netty echo", target, inFlight, warmup, measure);
            }
            print(netty, netty);
            try (Target target = braid(payload, false)) {
                print(run("braid virtual thread", target, inFlight, warmup, measure), netty);
            }
            try (Target target = braid(payload, true)) {
                print(run("braid inline", target, inFlight, warmup, measure), netty);
            }
        }
    }

    private static void print(Result r, Result baseline) {
        System.out.printf(Locale.ROOT, "%-22s %9d %12.0f %10.1f %10.1f %7.2fx%n", r.name, r.inFlight, r.callsPerSecond,
                r.p50Micros, r.p99Micros, r.callsPerSecond / baseline.callsPerSecond);
    }

    static Result run(String name, Target target, int inFlight, int warmupSeconds, int measureSeconds)
            throws InterruptedException {
        Recorder recorder = new Recorder(3);
        AtomicLong completed = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        for (int i = 0; i < inFlight; i++) {
            loop(target, recorder, completed, running);
        }
        TimeUnit.SECONDS.sleep(warmupSeconds);
        recorder.getIntervalHistogram();
        long startCount = completed.get();
        long start = System.nanoTime();
        TimeUnit.SECONDS.sleep(measureSeconds);
        long count = completed.get() - startCount;
        long elapsed = System.nanoTime() - start;
        var histogram = recorder.getIntervalHistogram();
        running.set(false);
        return new Result(name, inFlight, count * 1e9 / elapsed,
                histogram.getValueAtPercentile(50) / 1000.0, histogram.getValueAtPercentile(99) / 1000.0);
    }

    private static void loop(Target target, Recorder recorder, AtomicLong completed, AtomicBoolean running) {
        long start = System.nanoTime();
        target.call(() -> {
            recorder.recordValue(System.nanoTime() - start);
            completed.incrementAndGet();
            if (running.get()) {
                loop(target, recorder, completed, running);
            }
        });
    }

    static Target braid(byte[] payload, boolean inline) {
        RpcServer server = RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1).build();
        if (inline) {
            server.handleAsync("echo", BytesValue.parser(), (ctx, req) -> CompletableFuture.completedFuture(req));
        } else {
            server.handle("echo", BytesValue.parser(), (ctx, req) -> req);
        }
        server.start();
        StaticDiscover discover = StaticDiscover.of(Node.of("echo-1", "echo", "127.0.0.1", server.port(), 100));
        RpcClient client = RpcClient.builder().discover(discover).ioThreads(1).build();
        BytesValue request = BytesValue.of(ByteString.copyFrom(payload));
        return new Target() {
            @Override
            public void call(Runnable onDone) {
                client.invoke("echo", "echo", "", request, BytesValue.parser()).whenComplete((r, e) -> {
                    if (e != null) {
                        throw new IllegalStateException("echo failed", e);
                    }
                    onDone.run();
                });
            }

            @Override
            public void close() {
                client.close();
                server.close();
                discover.close();
            }
        };
    }

    /** The floor: length-prefixed frames echoed by Netty with nothing else in the way. */
    static Target bareNetty(byte[] payload) throws InterruptedException {
        EventLoopGroup serverGroup = Transports.newGroup(1, "netty-echo-server");
        EventLoopGroup clientGroup = Transports.newGroup(1, "netty-echo-client");
        Channel listener = new ServerBootstrap().group(serverGroup).channel(Transports.serverChannel(serverGroup))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // Frames are echoed whole, length prefix included: one buffer in, one out.
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 0),
                                new SimpleChannelInboundHandler<ByteBuf>(false) {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                        ctx.write(msg);
                                    }

                                    @Override
                                    public void channelReadComplete(ChannelHandlerContext ctx) {
                                        ctx.flush();
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        Channel client = new Bootstrap().group(clientGroup).channel(Transports.socketChannel(clientGroup))
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 0),
                                new SimpleChannelInboundHandler<ByteBuf>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                        waiting.poll().run(); // answers come back in order
                                    }
                                });
                    }
                }).connect(((InetSocketAddress) listener.localAddress())).sync().channel();
        return new Target() {
            @Override
            public void call(Runnable onDone) {
                // Same hand-off as a braid client: callers enqueue onto the connection's event loop.
                client.eventLoop().execute(() -> {
                    waiting.add(onDone);
                    ByteBuf frame = client.alloc().ioBuffer(4 + payload.length);
                    frame.writeInt(payload.length).writeBytes(payload);
                    client.writeAndFlush(frame);
                });
            }

            @Override
            public void close() {
                client.close().syncUninterruptibly();
                listener.close().syncUninterruptibly();
                clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
                serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        };
    }
}
