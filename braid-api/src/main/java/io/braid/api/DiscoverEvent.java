package io.braid.api;

import java.util.Objects;

/**
 * A change in the membership of a service.
 *
 * @param type     what changed
 * @param node     the node as it is now (for REMOVED: as it was last seen)
 * @param previous the node before an UPDATED change; null for ADDED and REMOVED
 */
public record DiscoverEvent(Type type, Node node, Node previous) {
    public enum Type { ADDED, REMOVED, UPDATED }

    public DiscoverEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(node, "node");
        if ((type == Type.UPDATED) != (previous != null)) {
            throw new IllegalArgumentException("previous is required for UPDATED and only for UPDATED");
        }
    }

    public static DiscoverEvent added(Node node) {
        return new DiscoverEvent(Type.ADDED, node, null);
    }

    public static DiscoverEvent removed(Node node) {
        return new DiscoverEvent(Type.REMOVED, node, null);
    }

    public static DiscoverEvent updated(Node previous, Node node) {
        return new DiscoverEvent(Type.UPDATED, node, previous);
    }
}
