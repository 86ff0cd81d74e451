package io.braid.monitor;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of the monitor's HTTP server. Immutable; each {@code withX} validates its argument at
 * once and returns a changed copy.
 *
 * <p>Defaults: bound to 127.0.0.1 (only this machine can reach it) on port 9999, no bearer token,
 * the dashboard refreshing every 2 s, and 2 s for gathering each node's figures.
 */
public final class MonitorOptions {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 9999;
    public static final MonitorOptions DEFAULT =
            new MonitorOptions(DEFAULT_HOST, DEFAULT_PORT, null, Duration.ofSeconds(2), Duration.ofSeconds(2));

    private final String host;
    private final int port;
    private final String bearerToken;
    private final Duration refreshInterval;
    private final Duration gatherTimeout;

    private MonitorOptions(String host, int port, String bearerToken, Duration refreshInterval, Duration gatherTimeout) {
        this.host = host;
        this.port = port;
        this.bearerToken = bearerToken;
        this.refreshInterval = refreshInterval;
        this.gatherTimeout = gatherTimeout;
    }

    /** {@link #DEFAULT} on another port. */
    public static MonitorOptions port(int port) {
        return DEFAULT.withPort(port);
    }

    /** The address to bind: 127.0.0.1 (default), 0.0.0.0 for every interface, or any local address. */
    public MonitorOptions withHost(String host) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("monitor host must not be blank");
        }
        return new MonitorOptions(host, port, bearerToken, refreshInterval, gatherTimeout);
    }

    /** The port, 0..65535; 0 picks a free one. */
    public MonitorOptions withPort(int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("monitor port must be in 0..65535, was " + port);
        }
        return new MonitorOptions(host, port, bearerToken, refreshInterval, gatherTimeout);
    }

    /**
     * Requires {@code Authorization: Bearer <token>} on every request but /healthz, /readyz and the
     * dashboard's static files (which hold no data; the page asks for the token). 16 to 512
     * characters without spaces; null removes the requirement.
     */
    public MonitorOptions withBearerToken(String token) {
        if (token != null && (token.length() < 16 || token.length() > 512 || token.chars().anyMatch(c -> c <= ' '))) {
            throw new IllegalArgumentException("monitor bearer token must be 16..512 characters without spaces");
        }
        return new MonitorOptions(host, port, token, refreshInterval, gatherTimeout);
    }

    /** How often the dashboard reloads its figures, 250 ms..1 minute; default 2 s. */
    public MonitorOptions withRefreshInterval(Duration interval) {
        Objects.requireNonNull(interval, "refreshInterval");
        if (interval.compareTo(Duration.ofMillis(250)) < 0 || interval.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("monitor refreshInterval must be in 250 ms..1 minute, was " + interval);
        }
        return new MonitorOptions(host, port, bearerToken, interval, gatherTimeout);
    }

    /** How long the monitor waits for a node's figures before showing it unreachable, 10 ms..30 s; default 2 s. */
    public MonitorOptions withGatherTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "gatherTimeout");
        if (timeout.compareTo(Duration.ofMillis(10)) < 0 || timeout.compareTo(Duration.ofSeconds(30)) > 0) {
            throw new IllegalArgumentException("monitor gatherTimeout must be in 10 ms..30 s, was " + timeout);
        }
        return new MonitorOptions(host, port, bearerToken, refreshInterval, timeout);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public Optional<String> bearerToken() {
        return Optional.ofNullable(bearerToken);
    }

    public Duration refreshInterval() {
        return refreshInterval;
    }

    public Duration gatherTimeout() {
        return gatherTimeout;
    }

    @Override
    public String toString() {
        return "MonitorOptions{" + host + ":" + port + (bearerToken != null ? ", bearer token" : "") + ", refresh "
                + refreshInterval + ", gatherTimeout " + gatherTimeout + "}";
    }
}
