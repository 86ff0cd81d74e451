package io.braid.rpc.internal;

import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * What every connection of one server shares. {@code tokenGate}, when set, must admit a token for
 * its calls and stream messages to be served (see {@link io.braid.api.internal.TokenGate}).
 * {@code ticker} is the clock of the deadlines of the calls served. {@code lanes} are the server's
 * token lanes and {@code nodeId} names the server in the lane chain a call carries
 * ({@link io.braid.rpc.internal.lane.LaneChain}).
 */
public record ServerConfig(MethodRegistry methods, Executor blockingExecutor,
                           int maxFrameBytes, int maxInFlightPerConnection, Duration maxDeadline,
                           Duration idleTimeout, io.braid.api.internal.TokenGate tokenGate, CodecRegistry codecs,
                           java.util.List<io.braid.api.ServerInterceptor> interceptors,
                           io.braid.api.Ticker ticker, io.braid.rpc.internal.lane.Lanes lanes, String nodeId) {
}
