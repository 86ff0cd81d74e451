package io.braid.gateway.internal;

/**
 * The per-player rate limits of a gateway, checked by {@code Gateway.Builder}: each player token
 * may make {@code callsPerSecond} calls a second with bursts of {@code callBurst}, and send
 * {@code bytesPerSecond} call-payload bytes a second with bursts of {@code byteBurst}, over all its
 * connections to this gateway (see {@link PlayerRateLimits}); after {@code maxRefusals} refused
 * calls without a quiet second between them, the next refusal closes the connection it came on.
 */
public record RateLimits(int callsPerSecond, int callBurst, int bytesPerSecond, int byteBurst, int maxRefusals) {
}
