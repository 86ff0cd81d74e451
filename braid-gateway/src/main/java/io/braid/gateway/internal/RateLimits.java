package io.braid.gateway.internal;

/**
 * The per-session rate limits of a gateway, checked by {@code Gateway.Builder}: each session may
 * make {@code callsPerSecond} calls a second with bursts of {@code callBurst}, and send
 * {@code bytesPerSecond} call-payload bytes a second with bursts of {@code byteBurst}; after
 * {@code maxRefusals} refused calls without a quiet second between them, the next refusal
 * closes the connection.
 */
public record RateLimits(int callsPerSecond, int callBurst, int bytesPerSecond, int byteBurst, int maxRefusals) {
}
