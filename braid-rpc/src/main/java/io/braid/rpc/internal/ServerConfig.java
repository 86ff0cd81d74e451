package io.braid.rpc.internal;

import java.time.Duration;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;

/** What every connection of one server shares. */
public record ServerConfig(ConcurrentMap<String, MethodHandler> methods, Executor blockingExecutor,
                           int maxFrameBytes, int maxInFlightPerConnection, Duration maxDeadline,
                           Duration idleTimeout) {
}
