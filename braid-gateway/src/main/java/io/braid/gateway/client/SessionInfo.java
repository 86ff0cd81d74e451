package io.braid.gateway.client;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The session a {@link GatewayClient} logged in to.
 *
 * @param token     the player's token (what the gateway's login hook answered)
 * @param sessionId the gateway's id of the session (kept across resumes, new after a relogin)
 * @param gateway   the address the login went to
 */
public record SessionInfo(String token, String sessionId, InetSocketAddress gateway) {
    public SessionInfo {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(gateway, "gateway");
    }
}
