package io.braid.rpc.internal;

import io.braid.api.Codec;
import io.braid.api.ServerInterceptor;
import io.braid.api.Ticker;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import io.braid.rpc.TokenGate;

/**
 * A server's settings, copied out of its builder at {@code build()}: immutable, so a builder changed
 * afterwards (before or after {@code start()}) changes nothing that was built; every connection
 * reads these. The values were checked by the builder; see {@code RpcServer.Builder} for each.
 *
 * @param group            null: the server makes (and owns) its own
 * @param blockingExecutor null: a virtual thread per call, owned by the server
 * @param tls              null: plain TCP
 * @param tokenGate        null: no self-fencing
 * @param scheduler        null: the fence sweep runs on an event loop and the close on a thread of
 *                         its own (borrowed otherwise, never shut down by the server)
 */
public record ServerOptions(String host, int port, int maxFrameBytes, int maxInFlightPerConnection,
                            Duration maxDeadline, Duration idleTimeout, Duration shutdownGrace, int maxConnections,
                            Duration frameReadTimeout, int ioThreads, EventLoopGroup group,
                            Executor blockingExecutor, SslContext tls, TokenGate tokenGate,
                            Duration fenceCheckInterval, List<Codec> codecs, List<ServerInterceptor> interceptors,
                            Ticker ticker, ScheduledExecutorService scheduler) {
    public ServerOptions {
        codecs = List.copyOf(codecs);
        interceptors = List.copyOf(interceptors);
    }
}
