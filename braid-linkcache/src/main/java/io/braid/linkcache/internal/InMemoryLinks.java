package io.braid.linkcache.internal;

import io.braid.api.Link;
import io.braid.api.internal.LinkWatcher;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The links of one in-memory cluster, shared by every {@link InMemoryLinkCache} made from it.
 * Each change takes one lock, so the token map, the reverse index and the epochs always agree.
 * Epochs come from one counter of these links: every change of owner takes the next one, so a
 * token's epochs grow across unlinks and links again; nothing here is ever lost, so the counter
 * needs no clock. Thread-safe.
 */
public final class InMemoryLinks {
    private final Map<String, Map<String, Link>> byToken = new HashMap<>();
    private final Map<String, Set<String>> byNode = new HashMap<>();
    /** The epoch of the latest change of owner. Guarded by this. */
    private long lastEpoch;
    /** Told of every change, under the lock (so in the order of the changes). */
    private final java.util.List<LinkWatcher> watchers = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Tells {@code watcher} of every change from now on, until the returned handle is closed. */
    AutoCloseable watch(LinkWatcher watcher) {
        watchers.add(watcher);
        return () -> watchers.remove(watcher);
    }

    private void changed(String token, String service, String owner, long epoch) {
        for (LinkWatcher watcher : watchers) {
            watcher.changed(token, service, owner, epoch);
        }
    }

    synchronized Optional<Link> target(String token, String service) {
        Map<String, Link> links = byToken.get(token);
        return Optional.ofNullable(links == null ? null : links.get(service));
    }

    synchronized Link link(String token, String service, String candidate) {
        Map<String, Link> links = byToken.computeIfAbsent(token, t -> new HashMap<>());
        Link owner = links.get(service);
        return owner != null ? owner : put(links, token, service, candidate);
    }

    synchronized Link relink(String token, String service, String nodeId) {
        Map<String, Link> links = byToken.computeIfAbsent(token, t -> new HashMap<>());
        Link old = links.get(service);
        if (old != null && old.nodeId().equals(nodeId)) {
            return old;
        }
        if (old != null) {
            removeReverse(old.nodeId(), token);
        }
        return put(links, token, service, nodeId);
    }

    synchronized Optional<Link> move(String token, String service, Link expected, String to) {
        Map<String, Link> links = byToken.get(token);
        Link current = links == null ? null : links.get(service);
        if (!expected.equals(current)) {
            return Optional.empty();
        }
        if (current.nodeId().equals(to)) {
            return Optional.of(current);
        }
        removeReverse(current.nodeId(), token);
        return Optional.of(put(links, token, service, to));
    }

    /** Links (token, service) to {@code nodeId} under the next epoch, and tells the watchers. Holds the lock. */
    private Link put(Map<String, Link> links, String token, String service, String nodeId) {
        Link link = new Link(nodeId, ++lastEpoch);
        links.put(service, link);
        byNode.computeIfAbsent(nodeId, n -> new HashSet<>()).add(token);
        changed(token, service, nodeId, link.epoch());
        return link;
    }

    synchronized int unlink(String token) {
        Map<String, Link> links = byToken.remove(token);
        if (links == null) {
            return 0;
        }
        links.forEach((service, link) -> {
            removeReverse(link.nodeId(), token);
            changed(token, service, null, link.epoch());
        });
        return links.size();
    }

    synchronized boolean unlink(String token, String service, String nodeId) {
        Map<String, Link> links = byToken.get(token);
        Link link = links == null ? null : links.get(service);
        if (link == null || !link.nodeId().equals(nodeId)) {
            return false;
        }
        links.remove(service);
        if (links.isEmpty()) {
            byToken.remove(token);
        }
        removeReverse(nodeId, token);
        changed(token, service, null, link.epoch());
        return true;
    }

    synchronized long down(String service, String nodeId) {
        Set<String> tokens = byNode.remove(nodeId);
        if (tokens == null) {
            tokens = Set.of();
        }
        long removed = 0;
        for (String token : tokens) {
            Map<String, Link> links = byToken.get(token);
            Link link = links == null ? null : links.get(service);
            if (link != null && link.nodeId().equals(nodeId)) {
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
