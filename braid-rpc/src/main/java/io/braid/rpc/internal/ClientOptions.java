package io.braid.rpc.internal;

import io.braid.api.ClientInterceptor;
import io.braid.api.Codec;
import io.braid.api.Discover;
import io.braid.api.LinkCache;
import io.braid.api.Ticker;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.List;

/**
 * A client's settings, copied out of its builder at {@code build()}: immutable, so a builder changed
 * afterwards changes nothing that was built ({@code RpcClient.newBuilder()} starts a new builder
 * from them). The values were checked by the builder; see {@code RpcClient.Builder} for each.
 *
 * @param links  null for none (token calls are then not sticky)
 * @param nodeId null for none
 * @param group  null: the client makes (and owns) its own
 * @param tls    null: plain TCP
 */
public record ClientOptions(Discover discover, LinkCache links, List<Codec> codecs,
                            List<ClientInterceptor> interceptors, boolean propagateDeadlines, String nodeId,
                            Duration defaultTimeout, Duration connectTimeout, Duration pingInterval,
                            Duration keepAliveTimeout, Duration shutdownGrace, int connectionsPerPeer,
                            int maxFrameBytes, int maxAttempts, int failuresToEject, Duration ejectionBackoff,
                            Duration maxEjectionBackoff, int ioThreads, EventLoopGroup group, SslContext tls,
                            Ticker ticker) {
    public ClientOptions {
        codecs = List.copyOf(codecs);
        interceptors = List.copyOf(interceptors);
    }
}
