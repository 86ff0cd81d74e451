package io.braid.rpc;

import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A link cache in a map, for tests of the client's routing that need no Redis: every step answers
 * at once, and it counts the reads of links ({@link #reads}) so that a test can tell whether a
 * call asked it. Epochs grow with every change, as {@link LinkCache} requires. Thread-safe.
 */
final class MapLinkCache implements LinkCache {
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    private final AtomicLong epochs = new AtomicLong();
    private final AtomicInteger reads = new AtomicInteger();

    private static String key(String service, String token) {
        return service + "/" + token;
    }

    /** Links {@code token} in {@code service} to {@code nodeId} under a new epoch, whoever owned it. */
    Link set(String service, String token, String nodeId) {
        Link link = new Link(nodeId, epochs.incrementAndGet());
        links.put(key(service, token), link);
        return link;
    }

    /**
     * Lookups of the store asked so far: reads ({@link #linkOfAsync}, {@link #targetAsync}) and
     * claims ({@link #claimAsync}, which answers the owner too: how a router looks a cold token up).
     */
    int reads() {
        return reads.get();
    }

    @Override
    public CompletableFuture<Optional<Link>> linkOfAsync(String token, String service) {
        reads.incrementAndGet();
        return CompletableFuture.completedFuture(Optional.ofNullable(links.get(key(service, token))));
    }

    @Override
    public CompletableFuture<Link> claimAsync(String token, Node candidate) {
        reads.incrementAndGet();
        return CompletableFuture.completedFuture(links.computeIfAbsent(key(candidate.service(), token),
                k -> new Link(candidate.id(), epochs.incrementAndGet())));
    }

    @Override
    public CompletableFuture<Link> relinkAsync(String token, Node node) {
        return CompletableFuture.completedFuture(links.compute(key(node.service(), token),
                (k, old) -> old != null && old.nodeId().equals(node.id()) ? old
                        : new Link(node.id(), epochs.incrementAndGet())));
    }

    @Override
    public CompletableFuture<Optional<Link>> moveAsync(String token, Link expected, Node to) {
        Link[] moved = new Link[1];
        links.computeIfPresent(key(to.service(), token), (k, old) -> {
            if (!old.equals(expected)) {
                return old;
            }
            moved[0] = old.nodeId().equals(to.id()) ? old : new Link(to.id(), epochs.incrementAndGet());
            return moved[0];
        });
        return CompletableFuture.completedFuture(Optional.ofNullable(moved[0]));
    }

    @Override
    public CompletableFuture<Integer> unlinkAsync(String token) {
        int before = links.size();
        links.keySet().removeIf(k -> k.endsWith("/" + token));
        return CompletableFuture.completedFuture(before - links.size());
    }

    @Override
    public CompletableFuture<Boolean> unlinkAsync(String token, Node owner) {
        boolean[] removed = new boolean[1];
        links.computeIfPresent(key(owner.service(), token), (k, old) -> {
            removed[0] = old.nodeId().equals(owner.id());
            return removed[0] ? null : old;
        });
        return CompletableFuture.completedFuture(removed[0]);
    }

    @Override
    public CompletableFuture<Long> downAsync(Node node) {
        int before = links.size();
        links.values().removeIf(link -> link.nodeId().equals(node.id()));
        return CompletableFuture.completedFuture((long) (before - links.size()));
    }

    @Override
    public CompletableFuture<Long> linkCountAsync(String nodeId) {
        return CompletableFuture.completedFuture(links.values().stream().filter(l -> l.nodeId().equals(nodeId)).count());
    }

    @Override
    public void close() {
    }
}
