package io.braid.gateway;

import com.google.protobuf.ByteString;
import io.braid.api.CallOptions;
import io.braid.api.Client;
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
 * again reaches the new one), DEADLINE_EXCEEDED when the gateway did not answer in time. A push
 * that failed may or may not have been written. A push to a session whose connection dropped
 * (DETACHED) succeeds: "accepted" then means buffered for the resume grace; the player gets it
 * if it resumes in time (see the module README: Resume).
 */
public final class GatewayPush {
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

    /** Writes {@code payload} to the player {@code token}; completes with its push sequence number. */
    public CompletableFuture<Long> push(String token, byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        PushRequest request = PushRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
        return client.invoke(gatewayService, Gateway.PUSH_METHOD, token, request, PushAccepted.parser(), options)
                .thenApply(PushAccepted::getPushSeq);
    }
}
