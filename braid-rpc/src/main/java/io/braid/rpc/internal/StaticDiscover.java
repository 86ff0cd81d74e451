package io.braid.rpc.internal;

import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.Subscription;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A {@link Discover} whose nodes are set by hand: a fixed cluster from configuration, or a test.
 * No heartbeats, no expiry: a node stays until deregistered. Changes reach watchers synchronously,
 * in order, on the thread that made them.
 *
 * <p>Thread-safe. {@link #close()} removes every node (watchers see REMOVED) and every watcher.
 */
public final class StaticDiscover implements Discover {
    private final Map<String, List<Node>> byService = new ConcurrentHashMap<>();
    private final Map<String, Node> byId = new HashMap<>();
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();

    /** Identity, not equality: the same listener watched twice is two subscriptions. */
    private record Watcher(Consumer<DiscoverEvent> listener) {
        @Override
        public boolean equals(Object other) {
            return this == other;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }
    }

    /** A discover holding {@code nodes}. */
    public static StaticDiscover of(Node... nodes) {
        StaticDiscover discover = new StaticDiscover();
        for (Node node : nodes) {
            discover.register(node);
        }
        return discover;
    }

    @Override
    public List<Node> nodes(String service) {
        return byService.getOrDefault(service, List.of());
    }

    @Override
    public Set<String> services() {
        return Set.copyOf(byService.keySet());
    }

    @Override
    public Subscription watch(Consumer<DiscoverEvent> listener) {
        Objects.requireNonNull(listener, "listener");
        Watcher watcher = new Watcher(listener);
        watchers.add(watcher);
        return () -> watchers.remove(watcher);
    }

    @Override
    public synchronized void register(Node node) {
        Objects.requireNonNull(node, "node");
        Node previous = byId.put(node.id(), node);
        if (node.equals(previous)) {
            return; // nothing changed: watchers hear nothing and nodes() keeps its instance
        }
        if (previous != null && !previous.service().equals(node.service())) {
            replace(previous.service(), previous, null);
            publish(DiscoverEvent.removed(previous));
            previous = null;
        }
        replace(node.service(), previous, node);
        publish(previous == null ? DiscoverEvent.added(node) : DiscoverEvent.updated(previous, node));
    }

    @Override
    public synchronized void deregister(String nodeId) {
        Node removed = byId.remove(nodeId);
        if (removed != null) {
            replace(removed.service(), removed, null);
            publish(DiscoverEvent.removed(removed));
        }
    }

    private void replace(String service, Node old, Node replacement) {
        List<Node> nodes = new ArrayList<>(byService.getOrDefault(service, List.of()));
        if (old != null) {
            nodes.removeIf(n -> n.id().equals(old.id()));
        }
        if (replacement != null) {
            nodes.add(replacement);
        }
        nodes.sort(Comparator.comparing(Node::id));
        if (nodes.isEmpty()) {
            byService.remove(service);
        } else {
            byService.put(service, List.copyOf(nodes));
        }
    }

    private void publish(DiscoverEvent event) {
        for (Watcher watcher : watchers) {
            watcher.listener().accept(event);
        }
    }

    @Override
    public synchronized void close() {
        for (String id : List.copyOf(byId.keySet())) {
            deregister(id);
        }
        watchers.clear();
    }
}
