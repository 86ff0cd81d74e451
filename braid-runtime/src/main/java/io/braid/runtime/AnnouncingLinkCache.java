package io.braid.runtime;

import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** The node's link cache as users see it: unlinks are announced on {@link ClusterEvents#LINKCACHE_UNLINK}. */
final class AnnouncingLinkCache implements LinkCache {
    private final LinkCache links;
    private final ClusterEvents events;

    AnnouncingLinkCache(LinkCache links, ClusterEvents events) {
        this.links = links;
        this.events = events;
    }

    @Override
    public CompletableFuture<Optional<String>> targetAsync(String token, String service) {
        return links.targetAsync(token, service);
    }

    @Override
    public CompletableFuture<String> linkAsync(String token, Node candidate) {
        return links.linkAsync(token, candidate);
    }

    @Override
    public CompletableFuture<Optional<Link>> linkOfAsync(String token, String service) {
        return links.linkOfAsync(token, service);
    }

    @Override
    public Link cachedLinkOf(String token, String service) {
        return links.cachedLinkOf(token, service);
    }

    @Override
    public CompletableFuture<Link> lookUpOrLinkAsync(String token, Node candidate) {
        return links.lookUpOrLinkAsync(token, candidate);
    }

    @Override
    public CompletableFuture<Link> claimAsync(String token, Node candidate) {
        return links.claimAsync(token, candidate);
    }

    @Override
    public CompletableFuture<Link> relinkAsync(String token, Node node) {
        return links.relinkAsync(token, node);
    }

    @Override
    public CompletableFuture<Optional<Link>> moveAsync(String token, Link expected, Node to) {
        return links.moveAsync(token, expected, to);
    }

    @Override
    public CompletableFuture<Integer> unlinkAsync(String token) {
        return links.unlinkAsync(token).thenApply(removed -> {
            if (removed > 0) {
                events.unlink(token, null, null);
            }
            return removed;
        });
    }

    @Override
    public CompletableFuture<Boolean> unlinkAsync(String token, Node owner) {
        return links.unlinkAsync(token, owner).thenApply(removed -> {
            if (removed) {
                events.unlink(token, owner.service(), owner.id());
            }
            return removed;
        });
    }

    @Override
    public CompletableFuture<Long> downAsync(Node node) {
        return links.downAsync(node);
    }

    @Override
    public CompletableFuture<Long> linkCountAsync(String nodeId) {
        return links.linkCountAsync(nodeId);
    }

    @Override
    public void close() {
        // the runtime closes the wrapped cache
    }
}
