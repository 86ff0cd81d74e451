package io.braid.rpc.internal;

import java.time.Duration;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;

/**
 * What every connection of one server shares. {@code tokenGate}, when set, must admit a token for
 * its calls and stream messages to be served (see {@link io.braid.rpc.TokenGate}).
 * {@code ticker} is the clock of the deadlines of the calls served.
 */
public record ServerConfig(ConcurrentMap<String, MethodHandler> methods, Executor blockingExecutor,
                           int maxFrameBytes, int maxInFlightPerConnection, Duration maxDeadline,
                           Duration idleTimeout, io.braid.rpc.TokenGate tokenGate, CodecRegistry codecs,
                           java.util.List<io.braid.api.ServerInterceptor> interceptors,
                           io.braid.api.Ticker ticker) {
}
