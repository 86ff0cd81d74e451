package io.braid.rpc.internal;

import io.braid.api.Codec;
import io.braid.api.ServerInterceptor;
import io.braid.api.Ticker;
import io.braid.api.internal.TokenGate;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A server's settings, copied out of its builder at {@code build()}: immutable, so a builder changed
 * afterwards (before or after {@code start()}) changes nothing that was built; every connection
 * reads these. The values were checked by the builder; see {@code RpcServer.Builder} for each.
 *
 * @param group            null: the server makes (and owns) its own
 * @param blockingExecutor null: the server's own virtual threads, reused while calls keep coming ({@link HandlerThreads})
 * @param tls              null: plain TCP
 * @param tokenGate        null: no self-fencing
 * @param nodeId           names this server in the lane chain calls carry (lane re-entry is refused per node)
 * @param maxLaneDepth     calls that may wait in one token's lane behind the one running
 * @param laneListener     hears the lanes (depth, wait, run); {@code LaneListener.NONE}: no clock read for them
 * @param scheduler        null: the fence sweep runs on an event loop and the close on a thread of
 *                         its own (borrowed otherwise, never shut down by the server)
 */
public record ServerOptions(String host, int port, int maxFrameBytes, int maxInFlightPerConnection,
                            Duration maxDeadline, Duration idleTimeout, Duration shutdownGrace, int maxConnections,
                            Duration frameReadTimeout, int ioThreads, EventLoopGroup group,
                            Executor blockingExecutor, SslContext tls, TokenGate tokenGate,
                            Duration fenceCheckInterval, List<Codec> codecs, List<ServerInterceptor> interceptors,
                            Ticker ticker, ScheduledExecutorService scheduler, String nodeId, int maxLaneDepth,
                            io.braid.api.internal.LaneListener laneListener) {
    public ServerOptions {
        codecs = List.copyOf(codecs);
        interceptors = List.copyOf(interceptors);
    }
}
