package io.braid.discover.internal;

import io.braid.api.Node;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One member's view of every service: what {@code nodes()} and {@code services()} answer, the same
 * way in every Discover implementation. A service is listed while it has a node. Written by the
 * member's loop only, read from any thread.
 */
final class ServiceViews {
    private final Map<String, List<Node>> byService = new ConcurrentHashMap<>();

    /** The nodes of {@code service} (an immutable list sorted by id), empty when none. */
    List<Node> nodes(String service) {
        return byService.getOrDefault(Names.notNull(service, "service"), List.of());
    }

    /** The services that have a node now. */
    Set<String> services() {
        return Set.copyOf(byService.keySet());
    }

    /** Replaces the view of {@code service} with {@code after}, from {@link ServiceView#sorted}. */
    void replace(String service, List<Node> after) {
        if (after.isEmpty()) {
            byService.remove(service);
        } else {
            byService.put(service, after);
        }
    }
}
