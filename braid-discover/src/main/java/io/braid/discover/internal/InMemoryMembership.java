package io.braid.discover.internal;

import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The membership of one in-memory cluster: what every {@link InMemoryDiscover} made from it shares.
 * Use one instance for all the nodes of one JVM-local cluster (tests, the single-process demo).
 * Thread-safe.
 */
public final class InMemoryMembership {
    private final Map<String, List<Node>> byService = new ConcurrentHashMap<>();
    private final Map<String, Node> byId = new HashMap<>();
    private final Map<String, InMemoryDiscover> owners = new HashMap<>();
    private final List<InMemoryDiscover> members = new CopyOnWriteArrayList<>();

    List<Node> nodes(String service) {
        return byService.getOrDefault(service, List.of());
    }

    Set<String> services() {
        return Set.copyOf(byService.keySet());
    }

    /** Adds a member and hands it the current view, before any later change reaches it. */
    synchronized void join(InMemoryDiscover member) {
        members.add(member);
        byService.forEach((service, nodes) -> member.deliver(service, nodes, List.of()));
    }

    void leave(InMemoryDiscover member) {
        members.remove(member);
    }

    synchronized void put(Node node, InMemoryDiscover owner) {
        InMemoryDiscover current = owners.get(node.id());
        if (current != null && current != owner) {
            throw new IllegalStateException("node id '" + node.id() + "' is already registered by another member");
        }
        Node previous = byId.put(node.id(), node);
        owners.put(node.id(), owner);
        if (previous != null && !previous.service().equals(node.service())) {
            replace(previous.service(), previous.id(), null);
        }
        replace(node.service(), node.id(), node);
    }

    synchronized boolean remove(String nodeId, InMemoryDiscover owner) {
        if (owners.get(nodeId) != owner) {
            return false;
        }
        evict(nodeId);
        return true;
    }

    /**
     * Removes a node as if its process had died without deregistering (its lease ran out):
     * every member sees REMOVED. For tests of crash handling.
     */
    public synchronized void evict(String nodeId) {
        Node removed = byId.remove(nodeId);
        owners.remove(nodeId);
        if (removed != null) {
            replace(removed.service(), nodeId, null);
        }
    }

    private void replace(String service, String id, Node replacement) {
        List<Node> before = nodes(service);
        List<Node> next = new ArrayList<>(before.size() + 1);
        for (Node node : before) {
            if (!node.id().equals(id)) {
                next.add(node);
            }
        }
        if (replacement != null) {
            next.add(replacement);
        }
        List<Node> after = ServiceView.sorted(next);
        List<DiscoverEvent> events = ServiceView.diff(before, after);
        if (events.isEmpty()) {
            return;
        }
        if (after.isEmpty()) {
            byService.remove(service);
        } else {
            byService.put(service, after);
        }
        for (InMemoryDiscover member : members) {
            member.deliver(service, after, events);
        }
    }
}
