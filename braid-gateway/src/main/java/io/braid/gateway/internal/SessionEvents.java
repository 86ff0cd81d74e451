package io.braid.gateway.internal;

import io.braid.api.Pubsub;
import io.braid.gateway.Gateway;
import io.braid.gateway.SessionEvent;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces session events: to the user's listener (called inline, on the thread that made the
 * change; a listener that throws is logged and ignored) and on {@link Gateway#SESSIONS_TOPIC}
 * (published asynchronously; a failed publish is logged, never retried). Thread-safe.
 */
final class SessionEvents {
    private static final Logger log = LoggerFactory.getLogger(SessionEvents.class);

    private final String gatewayNode;
    private final Pubsub pubsub;
    private final Consumer<SessionEvent> listener;
    private final LongSupplier clockMillis;
    private final GatewayMeters meters;

    SessionEvents(String gatewayNode, Pubsub pubsub, Consumer<SessionEvent> listener, LongSupplier clockMillis,
                  GatewayMeters meters) {
        this.meters = meters;
        this.gatewayNode = gatewayNode;
        this.pubsub = pubsub;
        this.listener = listener;
        this.clockMillis = clockMillis;
    }

    void fire(SessionEvent.Type type, Session session, String reason) {
        fire(type, session.token(), session.id(), gatewayNode, reason);
    }

    /** An event of a session held by {@code holder} (another gateway: a dead one's session, ended here). */
    void fire(SessionEvent.Type type, String token, String sessionId, String holder, String reason) {
        SessionEvent event = new SessionEvent(type, token, sessionId, holder, reason, clockMillis.getAsLong());
        meters.event(type);
        try {
            listener.accept(event);
        } catch (RuntimeException e) {
            log.warn("the session listener failed on {}", event, e);
        }
        try {
            pubsub.topic(Gateway.SESSIONS_TOPIC).publish(event.toMessage().toByteArray()).exceptionally(failure -> {
                log.warn("session event {} not published on {}: {}", event, Gateway.SESSIONS_TOPIC, failure.getMessage());
                return null;
            });
        } catch (RuntimeException closing) {
            log.warn("session event {} not published on {}: {}", event, Gateway.SESSIONS_TOPIC, closing.getMessage());
        }
    }
}
