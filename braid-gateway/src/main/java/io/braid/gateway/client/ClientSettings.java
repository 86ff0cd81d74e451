package io.braid.gateway.client;

import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/** The settings of a {@link GatewayClient}, validated by its builder; immutable. */
record ClientSettings(List<InetSocketAddress> addresses, Transport transport, byte[] credentials,
                      PushListener pushListener, Consumer<ClientEvent> eventListener,
                      EventLoopGroup eventLoopGroup, SslContext tls, String webSocketPath, Duration pingEvery,
                      Duration connectTimeout, Duration callTimeout, Duration reconnectMin, Duration reconnectMax,
                      Duration giveUpAfter, int maxFrameBytes) {
}
