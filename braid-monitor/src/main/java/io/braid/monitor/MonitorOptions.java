package io.braid.monitor;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of the monitor's HTTP server. Immutable; each {@code withX} validates its argument at
 * once and returns a changed copy.
 *
 * <p>Defaults: bound to 127.0.0.1 (only this machine can reach it) on port 9999, no bearer token,
 * the dashboard refreshing every 2 s, and 2 s for gathering each node's figures.
 *
 * <p>Who may do what:
 * <table>
 * <caption>access by token and bind address</caption>
 * <tr><th>bearer token</th><th>bound to</th><th>reads ({@code /metrics}, {@code /api/...} GETs)</th>
 *     <th>operator actions (drain, weight)</th></tr>
 * <tr><td>set</td><td>anywhere</td><td>the token (anyone with {@link #allowUnauthenticatedReads()})</td>
 *     <td>the token</td></tr>
 * <tr><td>none</td><td>loopback</td><td>anyone on this machine</td><td>anyone on this machine</td></tr>
 * <tr><td>none</td><td>beyond loopback</td><td colspan="2">refused when the monitor starts, unless
 *     {@link #allowUnauthenticatedReads()}: then anyone who reaches it reads, and no one can act
 *     (403)</td></tr>
 * </table>
 * Health ({@code /healthz}, {@code /readyz}) and the page's static files never need the token.
 */
public final class MonitorOptions {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 9999;
    public static final MonitorOptions DEFAULT =
            new MonitorOptions(DEFAULT_HOST, DEFAULT_PORT, null, false, Duration.ofSeconds(2), Duration.ofSeconds(2));

    private final String host;
    private final int port;
    private final String bearerToken;
    private final boolean unauthenticatedReads;
    private final Duration refreshInterval;
    private final Duration gatherTimeout;

    private MonitorOptions(String host, int port, String bearerToken, boolean unauthenticatedReads,
                           Duration refreshInterval, Duration gatherTimeout) {
        this.host = host;
        this.port = port;
        this.bearerToken = bearerToken;
        this.unauthenticatedReads = unauthenticatedReads;
        this.refreshInterval = refreshInterval;
        this.gatherTimeout = gatherTimeout;
    }

    /** {@link #DEFAULT} on another port. */
    public static MonitorOptions port(int port) {
        return DEFAULT.withPort(port);
    }

    /**
     * The address to bind: 127.0.0.1 (default), 0.0.0.0 for every interface, or any local address.
     * An address beyond loopback needs a {@link #withBearerToken bearer token} (or
     * {@link #allowUnauthenticatedReads()}): without either the monitor refuses to start.
     */
    public MonitorOptions withHost(String host) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("monitor host must not be blank");
        }
        return new MonitorOptions(host, port, bearerToken, unauthenticatedReads, refreshInterval, gatherTimeout);
    }

    /** The port, 0..65535; 0 picks a free one. */
    public MonitorOptions withPort(int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("monitor port must be in 0..65535, was " + port);
        }
        return new MonitorOptions(host, port, bearerToken, unauthenticatedReads, refreshInterval, gatherTimeout);
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
        return new MonitorOptions(host, port, token, unauthenticatedReads, refreshInterval, gatherTimeout);
    }

    /**
     * Opt-out, for a dashboard or a Prometheus scrape on a network you trust: the reads
     * ({@code /metrics}, {@code /api/cluster}, {@code /api/topics}, {@code /api/tokens/...}) need no
     * token, even on an address beyond loopback. They show the cluster's nodes, addresses, figures
     * and which node owns a player. The operator actions (drain, weight) are never opened by this:
     * with a token they still need it; without one, on an address beyond loopback, they answer 403.
     * Each start of a monitor whose reads are open beyond loopback logs a warning.
     */
    public MonitorOptions allowUnauthenticatedReads() {
        return new MonitorOptions(host, port, bearerToken, true, refreshInterval, gatherTimeout);
    }

    /** How often the dashboard reloads its figures, 250 ms..1 minute; default 2 s. */
    public MonitorOptions withRefreshInterval(Duration interval) {
        Objects.requireNonNull(interval, "refreshInterval");
        if (interval.compareTo(Duration.ofMillis(250)) < 0 || interval.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("monitor refreshInterval must be in 250 ms..1 minute, was " + interval);
        }
        return new MonitorOptions(host, port, bearerToken, unauthenticatedReads, interval, gatherTimeout);
    }

    /** How long the monitor waits for a node's figures before showing it unreachable, 10 ms..30 s; default 2 s. */
    public MonitorOptions withGatherTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "gatherTimeout");
        if (timeout.compareTo(Duration.ofMillis(10)) < 0 || timeout.compareTo(Duration.ofSeconds(30)) > 0) {
            throw new IllegalArgumentException("monitor gatherTimeout must be in 10 ms..30 s, was " + timeout);
        }
        return new MonitorOptions(host, port, bearerToken, unauthenticatedReads, refreshInterval, timeout);
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

    /** Whether {@link #allowUnauthenticatedReads()} was chosen. */
    public boolean unauthenticatedReads() {
        return unauthenticatedReads;
    }

    public Duration refreshInterval() {
        return refreshInterval;
    }

    public Duration gatherTimeout() {
        return gatherTimeout;
    }

    /**
     * Refuses a bind beyond loopback that would let anyone who reaches it act without a token: the
     * rule of this class's table, checked before the monitor listens.
     *
     * @throws IllegalArgumentException naming the host, the rule and the ways out
     */
    public void requireTokenBeyondLoopback() {
        if (bearerToken != null || unauthenticatedReads || isLoopback(host)) {
            return;
        }
        throw new IllegalArgumentException("monitor host " + host + " is not a loopback address and no bearer token "
                + "is set: anyone who reaches it could drain every node or set its weight to 0. Set a token with "
                + "MonitorOptions.withBearerToken(token) (16..512 characters), bind 127.0.0.1, or serve only the "
                + "reads without a token with MonitorOptions.allowUnauthenticatedReads() (drain and weight then answer 403)");
    }

    /** Whether {@code host} names loopback only: every address it resolves to is loopback. */
    static boolean isLoopback(String host) {
        try {
            InetAddress[] addresses = InetAddress.getAllByName(host);
            return addresses.length > 0 && Arrays.stream(addresses).allMatch(InetAddress::isLoopbackAddress);
        } catch (UnknownHostException e) {
            return false; // cannot be shown to be loopback; binding it would fail anyway
        }
    }

    @Override
    public String toString() {
        return "MonitorOptions{" + host + ":" + port + (bearerToken != null ? ", bearer token" : "")
                + (unauthenticatedReads ? ", unauthenticated reads" : "") + ", refresh "
                + refreshInterval + ", gatherTimeout " + gatherTimeout + "}";
    }
}
