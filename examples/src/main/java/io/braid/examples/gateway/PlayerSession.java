package io.braid.examples.gateway;

import io.braid.examples.JsonFrames;
import io.braid.examples.proto.ServerFrame;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;

/**
 * One logged-in player on this gateway: its token, its name and its socket. Immutable.
 */
record PlayerSession(String token, String player, Channel channel) {
    /** Writes one frame to the player; thread-safe (Netty hands the write to the channel's event loop). */
    void send(ServerFrame frame) {
        send(JsonFrames.print(frame));
    }

    void send(String json) {
        channel.writeAndFlush(new TextWebSocketFrame(json));
    }
}
