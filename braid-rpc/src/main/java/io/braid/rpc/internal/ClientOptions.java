package io.braid.rpc.internal;

import io.braid.api.ClientInterceptor;
import io.braid.api.Codec;
import io.braid.api.Discover;
import io.braid.api.LinkCache;
import io.braid.api.Ticker;
import io.braid.api.internal.Checks;
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
    /** Checks what the setters cannot check one at a time. */
    public ClientOptions {
        if (discover == null) {
            throw new IllegalStateException("discover is required: the client needs a source of nodes");
        }
        if (keepAliveTimeout.compareTo(pingInterval) <= 0) {
            throw new IllegalStateException("keepAliveTimeout (" + keepAliveTimeout
                    + ") must be longer than pingInterval (" + pingInterval + ")");
        }
        codecs = List.copyOf(codecs);
        interceptors = List.copyOf(interceptors);
    }

    /** The ejection setting's check: at least one failure, positive backoffs, the max not below the base. */
    public static void checkEjection(int failures, Duration backoff, Duration max) {
        if (failures < 1) {
            throw new IllegalArgumentException("ejection failures must be at least 1, was " + failures);
        }
        Checks.positive(backoff, "ejection backoff");
        Checks.positive(max, "ejection max backoff");
        if (max.compareTo(backoff) < 0) {
            throw new IllegalArgumentException("ejection max backoff " + max + " is below the backoff " + backoff);
        }
    }
}
