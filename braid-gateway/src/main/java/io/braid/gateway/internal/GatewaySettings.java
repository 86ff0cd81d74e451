package io.braid.gateway.internal;

import io.braid.api.Ticker;
import io.braid.gateway.LoginHook;
import io.braid.gateway.RouteTable;
import io.braid.gateway.SessionEvent;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The checked, immutable settings of one gateway, copied from {@code Gateway.Builder} at start.
 * A port of -1 means that front end is off; 0 picks a free port.
 *
 * @param eventLoopGroup borrowed (never closed by the gateway), or null for a group of the gateway's own
 * @param tls            the server TLS context of both front ends, or null for plain text
 * @param ticker         the clock of the rate limits
 */
public record GatewaySettings(LoginHook login, RouteTable routes, String host, int webSocketPort,
                              String webSocketPath, Set<String> allowedOrigins, int tcpPort, int maxFrameBytes,
                              Duration idleTimeout, Duration loginTimeout, Duration callTimeout,
                              Consumer<SessionEvent> sessionListener, EventLoopGroup eventLoopGroup, int ioThreads,
                              Duration resumeGrace, int replayMaxPushes, long replayMaxBytes, int maxPendingBytes,
                              RateLimits rateLimits, SslContext tls, Ticker ticker) {
}
