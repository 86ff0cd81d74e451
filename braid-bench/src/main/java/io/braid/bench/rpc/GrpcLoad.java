package io.braid.bench.rpc;

import io.braid.bench.core.Load;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * gRPC-java unary calls through {@link ClientCalls#asyncUnaryCall}, one ManagedChannel (one
 * HTTP/2 connection) per "connection" of the cell, round robin, all on one event-loop thread.
 * With {@code directExecutor} the channel runs callbacks on that thread (gRPC's tuned setting);
 * without it on gRPC's default executor, as the server side of that subject does.
 */
final class GrpcLoad implements Load {
    private final EventLoopGroup group = GrpcEcho.group("grpc-client");
    private final ManagedChannel[] channels;
    private final AtomicInteger next = new AtomicInteger();
    private final byte[] payload;

    GrpcLoad(int port, int connections, byte[] payload, boolean directExecutor) {
        this.payload = payload;
        channels = new ManagedChannel[connections];
        for (int i = 0; i < connections; i++) {
            NettyChannelBuilder builder = NettyChannelBuilder.forAddress(ServerMain.HOST, port).usePlaintext()
                    .eventLoopGroup(group).channelType(GrpcEcho.socketChannel(group));
            if (directExecutor) {
                builder.directExecutor();
            }
            channels[i] = builder.build();
            channels[i].getState(true); // connect now, not on the first call
        }
    }

    @Override
    public void start(Done done) {
        ManagedChannel channel = channels.length == 1 ? channels[0]
                : channels[Math.floorMod(next.getAndIncrement(), channels.length)];
        ClientCalls.asyncUnaryCall(channel.newCall(GrpcEcho.METHOD, CallOptions.DEFAULT), payload,
                new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] response) {
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.done(error);
                    }

                    @Override
                    public void onCompleted() {
                        done.done(null);
                    }
                });
    }

    @Override
    public void close() throws InterruptedException {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        GrpcEcho.shutdown(group);
    }
}
