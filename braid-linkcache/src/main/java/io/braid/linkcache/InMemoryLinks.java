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
        return candidate;
    }

    synchronized void relink(String token, String service, String nodeId) {
        Map<String, String> links = byToken.computeIfAbsent(token, t -> new HashMap<>());
        String old = links.put(service, nodeId);
        if (old != null && !old.equals(nodeId)) {
            removeReverse(old, token);
        }
        byNode.computeIfAbsent(nodeId, n -> new HashSet<>()).add(token);
    }

    synchronized int unlink(String token) {
        Map<String, String> links = byToken.remove(token);
        if (links == null) {
            return 0;
        }
        links.values().forEach(node -> removeReverse(node, token));
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
        return true;
    }

    synchronized long down(String service, String nodeId) {
        Set<String> tokens = byNode.remove(nodeId);
        if (tokens == null) {
            return 0;
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
