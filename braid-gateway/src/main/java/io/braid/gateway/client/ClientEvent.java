package io.braid.gateway.client;

import java.util.Objects;

/**
 * Something that happened to a {@link GatewayClient}'s session, handed to its
 * {@linkplain GatewayClient.Builder#onEvent event listener} (on the client's event loop, in the
 * order it happened; the listener must not block).
 *
 * @param type     what happened
 * @param detail   why, in words (the gateway's reason or error, the address, the missing pushes); never null
 * @param replayed for {@link Type#RESUMED}: how many missed pushes the gateway replays (they follow
 *                 through the push listener); otherwise 0
 */
public record ClientEvent(Type type, String detail, int replayed) {
    public enum Type {
        /** The first login succeeded ({@link GatewayClient#connect()} completes). */
        CONNECTED,
        /** The connection dropped; the client reconnects and resumes (calls in flight failed UNAVAILABLE). */
        DISCONNECTED,
        /** The session resumed on a new connection; {@code replayed} missed pushes follow. */
        RESUMED,
        /**
         * The session could not be resumed (the detail names the gateway's code: NOT_FOUND when the
         * grace ended or the gateway holding it died, RESOURCE_EXHAUSTED when missed pushes fell out of
         * its replay buffer, UNAUTHENTICATED ...), so the client logged in afresh: a new session whose
         * pushes count from 1 again. Pushes of the old session that were not received are lost.
         */
        RELOGGED,
        /** A push arrived whose predecessors never did: the detail names the missing numbers. An error: the gateway's guarantee was broken. */
        GAP,
        /** The same player logged in elsewhere; the client does not reconnect (it is finished). */
        KICKED,
        /** The client is finished: closed, logged out, its login refused, or it gave up reconnecting (the detail says which). */
        CLOSED
    }

    public ClientEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(detail, "detail");
    }
}
