package io.braid.gateway;

import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * Authenticates the first frame of a connection: turns the client's credentials into the
 * player's token, the name by which every node routes the player's calls and pushes.
 *
 * <p>The hook is called on the connection's event loop and must not block: do slow checks
 * (a database, an auth service) in the returned future. Complete it with the token (not blank,
 * at most {@value Gateway#MAX_TOKEN_LENGTH} characters), or fail it: with a
 * {@link io.braid.api.BraidException} of {@link io.braid.api.Code#UNAUTHENTICATED} for credentials
 * that do not prove who the player is (the client gets an Error frame with that code and its
 * message), or any other exception (the client gets INTERNAL; the detail stays in the gateway's
 * log). A hook that takes longer than the gateway's login timeout ends the connection with
 * DEADLINE_EXCEEDED. Called from many connections at once: must be thread-safe.
 */
@FunctionalInterface
public interface LoginHook {
    CompletableFuture<String> authenticate(byte[] credentials, SocketAddress remoteAddress);
}
