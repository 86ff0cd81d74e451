package io.braid.examples.gateway;

import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The players logged in through one gateway, by token. Thread-safe. */
final class PlayerSessions {
    private final Map<String, PlayerSession> byToken = new ConcurrentHashMap<>();
    private final AtomicLong chatDelivered = new AtomicLong();
    private final AtomicLong chatDropped = new AtomicLong();

    /** Adds {@code session}; returns the session it replaces (the same player on another socket), or null. */
    PlayerSession put(PlayerSession session) {
        return byToken.put(session.token(), session);
    }

    PlayerSession get(String token) {
        return byToken.get(token);
    }

    /** Removes {@code session} only if it is still the player's current one. */
    boolean remove(PlayerSession session) {
        return byToken.remove(session.token(), session);
    }

    int size() {
        return byToken.size();
    }

    long chatDelivered() {
        return chatDelivered.get();
    }

    /**
     * Writes {@code json} to every player whose socket can take it now. A player whose socket is
     * backed up misses the line rather than making the gateway buffer without bound.
     */
    void broadcast(String json) {
        for (PlayerSession session : byToken.values()) {
            if (session.channel().isWritable()) {
                session.channel().writeAndFlush(new TextWebSocketFrame(json));
                chatDelivered.incrementAndGet();
            } else {
                chatDropped.incrementAndGet();
            }
        }
    }

    void closeAll() {
        for (PlayerSession session : byToken.values()) {
            session.channel().writeAndFlush(new CloseWebSocketFrame(1001, "gateway closing"))
                    .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
        }
    }
}
