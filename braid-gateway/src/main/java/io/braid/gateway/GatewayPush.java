package io.braid.gateway;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Client;
import io.braid.api.Code;
import io.braid.api.internal.UnknownMethod;
import io.braid.gateway.internal.proto.PushAccepted;
import io.braid.gateway.internal.proto.PushRequest;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Pushes to players from any node: {@code GatewayPush.of(braid.client(), "gateway").push(token, bytes)}.
 * The call is routed by the player's token, so it reaches the gateway that holds the player's
 * binding, which writes a Push frame with the session's next push sequence number (1, 2, 3, ...).
 * Pushes sent one after another from one node reach the player in that order. Thread-safe.
 *
 * <p>The future completes with the push sequence number of the push, or fails with a
 * {@link io.braid.api.BraidException}: NOT_FOUND when the player has no session (never logged in,
 * logged out, its resume grace over, or still logging in; a gateway service with no nodes is
 * NOT_FOUND too), UNAVAILABLE when the gateway cannot be reached, the session is being resumed,
 * or the binding has just moved to another gateway (a new login or a resume elsewhere; asking
 * again reaches the new one) or names a gateway node that is still starting, DEADLINE_EXCEEDED when the gateway did not answer in time. A push
 * that failed may or may not have been written: a push with an id
 * ({@link #push(String, String, byte[])}) can be asked again safely, it is shown once. A push to a
 * session whose connection dropped (DETACHED) succeeds: "accepted" then means buffered for the resume grace; the player gets it
 * if it resumes in time (see the module README: Resume).
 */
public final class GatewayPush {
    /** The longest push id, in characters. */
    public static final int MAX_PUSH_ID_LENGTH = 64;

    private final Client client;
    private final String gatewayService;
    private final CallOptions options;

    private GatewayPush(Client client, String gatewayService, CallOptions options) {
        this.client = client;
        this.gatewayService = gatewayService;
        this.options = options;
    }

    /** Pushes through {@code client} (a node's {@code braid.client()}) to the gateways of {@code gatewayService}. */
    public static GatewayPush of(Client client, String gatewayService) {
        Objects.requireNonNull(client, "client");
        if (gatewayService == null || gatewayService.isBlank()) {
            throw new IllegalArgumentException("gatewayService must not be blank");
        }
        return new GatewayPush(client, gatewayService, CallOptions.DEFAULT);
    }

    /** The same pusher with these call options (timeout, deadline) on every push. */
    public GatewayPush withOptions(CallOptions options) {
        return new GatewayPush(client, gatewayService, Objects.requireNonNull(options, "options"));
    }

    /**
     * Writes {@code payload} to the player {@code token}; completes with its push sequence number.
     * A failed push may or may not have been written: asking again may show it twice. To retry
     * safely, give the push an id ({@link #push(String, String, byte[])}).
     */
    public CompletableFuture<Long> push(String token, byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        return send(token, PushRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build());
    }

    /**
     * Writes {@code payload} to the player {@code token} once per {@code pushId}; completes with its
     * push sequence number. Asking again with the same id (after a failure whose outcome is unknown,
     * UNAVAILABLE or DEADLINE_EXCEEDED, or while the first call is still in flight) is safe: if the
     * push was numbered, the answer is its seq and the player sees it once (also across a resume, on
     * any gateway). The session remembers the ids of its last 128 pushes that had one (fewer if
     * the gateways' {@code replayMaxPushes} is lower), for as long as it lives; a new login starts
     * a new session, which knows no ids. An id older than that is pushed anew. A retry should carry
     * the same payload: only the first one numbered is kept.
     *
     * @param pushId chosen by the pusher, unique per push to a player (a UUID, or "quest-7-done"):
     *     1..{@value #MAX_PUSH_ID_LENGTH} characters
     * @throws IllegalArgumentException when {@code pushId} is blank or too long
     */
    public CompletableFuture<Long> push(String token, String pushId, byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        if (pushId == null || pushId.isBlank() || pushId.length() > MAX_PUSH_ID_LENGTH) {
            throw new IllegalArgumentException("pushId must be 1.." + MAX_PUSH_ID_LENGTH
                    + " characters, not blank; got " + (pushId == null ? "null" : pushId.length() + " characters"));
        }
        return send(token, PushRequest.newBuilder().setPushId(pushId).setPayload(ByteString.copyFrom(payload)).build());
    }

    private CompletableFuture<Long> send(String token, PushRequest request) {
        return client.invoke(gatewayService, Gateway.PUSH_METHOD, token, request, PushAccepted.parser(), options)
                .exceptionallyCompose(failure -> CompletableFuture.failedFuture(UnknownMethod.is(failure)
                        // the binding names a gateway node between its start and its gateway's
                        ? new BraidException(Code.UNAVAILABLE, "the gateway node holding the binding of " + token
                                + " is still starting (it takes no pushes yet); ask again")
                        : failure))
                .thenApply(PushAccepted::getPushSeq);
    }
}
