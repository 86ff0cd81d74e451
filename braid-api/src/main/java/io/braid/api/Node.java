package io.braid.api;

import java.util.Map;
import java.util.Objects;

/**
 * One process of a service, as discovery sees it. Immutable; {@code metadata} is copied.
 *
 * @param id       unique in the cluster; stable for the life of the process
 * @param service  the service it serves, for example {@code "logic"}
 * @param host     where its RPC server listens
 * @param port     its RPC port, 1..65535
 * @param weight   its share of new links under smooth weighted round robin, 0..1,000,000; zero
 *                 means "never picked for new work"
 * @param state    ACTIVE, or DRAINING while it empties before leaving
 * @param metadata free-form labels (zone, version, ...)
 */
public record Node(String id, String service, String host, int port, int weight,
                   NodeState state, Map<String, String> metadata) {

    /** The largest weight a node may have. */
    public static final int MAX_WEIGHT = 1_000_000;

    public Node {
        requireText(id, "id");
        requireText(service, "service");
        requireText(host, "host");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be in 1..65535, was " + port);
        }
        if (weight < 0 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight must be in 0.." + MAX_WEIGHT + ", was " + weight);
        }
        Objects.requireNonNull(state, "state");
        metadata = Map.copyOf(Objects.requireNonNull(metadata, "metadata"));
    }

    /** An ACTIVE node with no metadata. */
    public static Node of(String id, String service, String host, int port, int weight) {
        return new Node(id, service, host, port, weight, NodeState.ACTIVE, Map.of());
    }

    /** {@code host:port}, with an IPv6 host in brackets ({@code [::1]:9000}). */
    public String address() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ':' + port;
    }

    /** Whether the node takes new links and stateless calls. */
    public boolean isActive() {
        return state == NodeState.ACTIVE;
    }

    public Node withWeight(int newWeight) {
        return new Node(id, service, host, port, newWeight, state, metadata);
    }

    public Node withState(NodeState newState) {
        return new Node(id, service, host, port, weight, newState, metadata);
    }

    private static void requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
    }
}
