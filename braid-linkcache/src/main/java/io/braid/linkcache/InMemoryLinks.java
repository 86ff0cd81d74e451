package io.braid.linkcache;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The links of one in-memory cluster, shared by every {@link InMemoryLinkCache} made from it.
 * Each change takes one lock, so the token map and the reverse index always agree. Thread-safe.
 */
public final class InMemoryLinks {
    private final Map<String, Map<String, String>> byToken = new HashMap<>();
    private final Map<String, Set<String>> byNode = new HashMap<>();
    /** Told of every change, under the lock (so in the order of the changes). */
    private final java.util.List<LinkWatcher> watchers = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Tells {@code watcher} of every change from now on, until the returned handle is closed. */
    AutoCloseable watch(LinkWatcher watcher) {
        watchers.add(watcher);
        return () -> watchers.remove(watcher);
    }

    private void changed(String token, String service, String owner) {
        for (LinkWatcher watcher : watchers) {
            watcher.changed(token, service, owner);
        }
    }

    synchronized Optional<String> target(String token, String service) {
        Map<String, String> links = byToken.get(token);
        return Optional.ofNullable(links == null ? null : links.get(service));
    }

    synchronized String link(String token, String service, String candidate) {
        Map<String, String> links = byToken.computeIfAbsent(token, t -> new HashMap<>());
        String owner = links.get(service);
        if (owner != null) {
            return owner;
        }
        links.put(service, candidate);
        byNode.computeIfAbsent(candidate, n -> new HashSet<>()).add(token);
        changed(token, service, candidate);
        return candidate;
    }

    synchronized void relink(String token, String service, String nodeId) {
        Map<String, String> links = byToken.computeIfAbsent(token, t -> new HashMap<>());
        String old = links.put(service, nodeId);
        if (old != null && !old.equals(nodeId)) {
            removeReverse(old, token);
        }
        byNode.computeIfAbsent(nodeId, n -> new HashSet<>()).add(token);
        changed(token, service, nodeId);
    }

    synchronized int unlink(String token) {
        Map<String, String> links = byToken.remove(token);
        if (links == null) {
            return 0;
        }
        links.forEach((service, node) -> {
            removeReverse(node, token);
            changed(token, service, null);
        });
        return links.size();
    }

    synchronized boolean unlink(String token, String service, String nodeId) {
        Map<String, String> links = byToken.get(token);
        if (links == null || !nodeId.equals(links.get(service))) {
            return false;
        }
        links.remove(service);
        if (links.isEmpty()) {
            byToken.remove(token);
        }
        removeReverse(nodeId, token);
        changed(token, service, null);
        return true;
    }

    synchronized long down(String service, String nodeId) {
        Set<String> tokens = byNode.remove(nodeId);
        if (tokens == null) {
            tokens = Set.of();
        }
        long removed = 0;
        for (String token : tokens) {
            Map<String, String> links = byToken.get(token);
            if (links != null && nodeId.equals(links.get(service))) {
                links.remove(service);
                if (links.isEmpty()) {
                    byToken.remove(token);
                }
                removed++;
            }
        }
        for (LinkWatcher watcher : watchers) {
            watcher.nodeCleared(nodeId);
        }
        return removed;
    }

    synchronized long linkCount(String nodeId) {
        Set<String> tokens = byNode.get(nodeId);
        return tokens == null ? 0 : tokens.size();
    }

    private void removeReverse(String nodeId, String token) {
        Set<String> tokens = byNode.get(nodeId);
        if (tokens != null) {
            tokens.remove(token);
            if (tokens.isEmpty()) {
                byNode.remove(nodeId);
            }
        }
    }
}
