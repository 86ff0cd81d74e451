package io.braid.gateway.internal;

import io.braid.api.internal.GatewaySessionStore;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;

/**
 * This gateway's view of the durable session records ({@link GatewaySessionStore} on the node's
 * control plane): the store with this gateway's node id, the replay bounds and the records' ttl
 * filled in. The ttl is the resume grace plus twice the refresh period ({@link #refreshEvery}):
 * the gateway refreshes the records of its attached sessions that often, so a record outlives its
 * session's last sign of life by more than the grace (the detached session's own grace timer ends
 * it first, with a compare-and-delete), and a dead gateway's records expire by themselves within
 * grace + 2 refresh periods of its death.
 */
final class SessionLog {
    private static final Duration MIN_REFRESH = Duration.ofMillis(100);

    private final GatewaySessionStore store;
    private final String gateway;
    private final GatewaySessionStore.Bounds bounds;
    private final Duration refreshEvery;
    private final Duration ttl;
    private final Duration previousSecretWindow;

    SessionLog(GatewaySessionStore store, String gateway, GatewaySettings settings) {
        this.store = store;
        this.gateway = gateway;
        this.bounds = new GatewaySessionStore.Bounds(settings.replayMaxPushes(), settings.replayMaxBytes());
        Duration half = settings.resumeGrace().dividedBy(2);
        this.refreshEvery = half.compareTo(MIN_REFRESH) < 0 ? MIN_REFRESH : half;
        this.ttl = settings.resumeGrace().plus(refreshEvery.multipliedBy(2));
        this.previousSecretWindow = settings.resumeGrace().isZero() ? MIN_REFRESH : settings.resumeGrace();
    }

    String gateway() {
        return gateway;
    }

    Duration refreshEvery() {
        return refreshEvery;
    }

    CompletableFuture<Void> open(String token, String sessionId, byte[] secretHash) {
        return store.open(token, sessionId, secretHash, gateway, ttl);
    }

    /** Appends a push ({@code pushId} null: none) to the session's log; see {@link GatewaySessionStore#append}. */
    CompletableFuture<GatewaySessionStore.Appended> append(String token, String sessionId, String pushId,
                                                           byte[] payload) {
        return store.append(token, sessionId, gateway, pushId, payload, bounds, ttl);
    }

    /** A takeover by {@code newGateway}; {@code expectedGateway} null: whoever holds the record now. */
    CompletableFuture<GatewaySessionStore.Replay> takeOver(String token, String sessionId, String presentedSecret,
                                                           long seen, String expectedGateway, String newGateway,
                                                           byte[] newSecretHash) {
        return store.takeOver(token, sessionId, Session.hash(presentedSecret), seen, expectedGateway, newGateway,
                newSecretHash, ttl);
    }

    /**
     * The resumed connection of a session held here ended before the client proved it got the new
     * resume token: the secret it presented to resume stays good for the resume grace (see
     * {@link GatewaySessionStore#takeOver}).
     */
    CompletableFuture<Boolean> acceptPreviousSecret(String token, String sessionId) {
        return acceptPreviousSecret(token, sessionId, gateway);
    }

    /** As {@link #acceptPreviousSecret(String, String)}, for a record that {@code holder} holds. */
    CompletableFuture<Boolean> acceptPreviousSecret(String token, String sessionId, String holder) {
        return store.acceptPreviousSecret(token, sessionId, holder, previousSecretWindow);
    }

    /** Refreshes the records of {@code sessions}; completes with those the store has no record of any more. */
    CompletableFuture<java.util.List<GatewaySessionStore.Held>> touch(Collection<GatewaySessionStore.Held> sessions) {
        return store.touch(sessions, gateway, ttl);
    }

    CompletableFuture<Boolean> end(String token, String sessionId) {
        return store.end(token, sessionId, gateway);
    }

    /** The records' ttl: after it, a dead gateway's sessions are gone from the store. */
    Duration ttl() {
        return ttl;
    }

    CompletableFuture<Void> unindex(String token, String sessionId) {
        return store.unindex(token, sessionId, gateway);
    }

    CompletableFuture<java.util.List<GatewaySessionStore.Held>> heldBy(String deadGateway) {
        return store.heldBy(deadGateway);
    }

    CompletableFuture<Boolean> endOrphan(String token, String sessionId, String deadGateway) {
        return store.endOrphan(token, sessionId, deadGateway);
    }
}
