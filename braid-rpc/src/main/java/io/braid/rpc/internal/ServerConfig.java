package io.braid.rpc.internal;

import java.time.Duration;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;

/**
 * What every connection of one server shares. {@code tokenGate}, when set, must answer true for
 * calls with a token to be served (a node that cannot confirm its registration fences itself).
 * {@code ticker} is the clock of the deadlines of the calls served.
 */
public record ServerConfig(ConcurrentMap<String, MethodHandler> methods, Executor blockingExecutor,
                           int maxFrameBytes, int maxInFlightPerConnection, Duration maxDeadline,
                           Duration idleTimeout, java.util.function.BooleanSupplier tokenGate, CodecRegistry codecs,
                           java.util.List<io.braid.api.ServerInterceptor> interceptors,
                           io.braid.api.Ticker ticker) {
}
