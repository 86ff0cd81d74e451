package io.braid.gateway.client;

/** How a {@link GatewayClient} speaks to a gateway. Both carry the frames in protobuf binary. */
public enum Transport {
    /** Plain TCP (or TLS): each frame a 4-byte big-endian length, then the frame. */
    TCP,
    /** WebSocket ({@code ws://} or {@code wss://} at the gateway's WebSocket path): one binary message a frame. */
    WEBSOCKET
}
