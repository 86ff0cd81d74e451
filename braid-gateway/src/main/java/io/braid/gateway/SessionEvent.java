package io.braid.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.gateway.proto.SessionEventMessage;
import java.util.Objects;

/**
 * Something that happened to a player's session on a gateway: it was {@link Type#BOUND} (the
 * login succeeded and the token now leads to this gateway), {@link Type#KICKED} (the same player
 * logged in again, here or on another gateway), {@link Type#CLOSED} (the player is gone: the
 * connection ended and the resume grace passed, or the gateway closed), or {@link Type#RESUMED}
 * (a session whose connection dropped was resumed on a new connection, on this gateway, which
 * fires it; the gateway it left fires nothing). A session (one session id, across its resumes)
 * ends with exactly one KICKED or CLOSED; a login that never got bound fires nothing. Published on {@link Gateway#SESSIONS_TOPIC} (body: a
 * {@link SessionEventMessage}, read it with {@link #parse}) and handed to the gateway's
 * {@linkplain Gateway.Builder#sessionListener listener}.
 *
 * @param reason why a session was kicked or closed; empty for BOUND
 */
public record SessionEvent(Type type, String token, String sessionId, String gatewayNode, String reason,
                           long atMillis) {
    public enum Type { BOUND, KICKED, CLOSED, RESUMED }

    public SessionEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(gatewayNode, "gatewayNode");
        Objects.requireNonNull(reason, "reason");
    }

    /** The event as published on {@link Gateway#SESSIONS_TOPIC}. */
    public SessionEventMessage toMessage() {
        return SessionEventMessage.newBuilder().setType(SessionEventMessage.Type.valueOf(type.name()))
                .setToken(token).setSessionId(sessionId).setGatewayNode(gatewayNode).setReason(reason)
                .setAtMillis(atMillis).build();
    }

    /**
     * Reads the body of a message of {@link Gateway#SESSIONS_TOPIC}.
     *
     * @throws IllegalArgumentException when {@code body} is not a session event
     */
    public static SessionEvent parse(byte[] body) {
        SessionEventMessage message;
        try {
            message = SessionEventMessage.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a session event: " + e.getMessage(), e);
        }
        if (message.getType() == SessionEventMessage.Type.TYPE_UNSPECIFIED
                || message.getType() == SessionEventMessage.Type.UNRECOGNIZED) {
            throw new IllegalArgumentException("not a session event: type " + message.getTypeValue());
        }
        return new SessionEvent(Type.valueOf(message.getType().name()), message.getToken(), message.getSessionId(),
                message.getGatewayNode(), message.getReason(), message.getAtMillis());
    }
}
