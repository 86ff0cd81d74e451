package io.braid.linkcache;

import io.braid.api.LinkCache;
import io.braid.api.Node;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Links inside one JVM: every instance made from the same {@link InMemoryLinks} sees the same
 * links at once (no near cache to invalidate). The futures it returns are already complete.
 */
public final class InMemoryLinkCache implements LinkCache {
    private final InMemoryLinks links;
    private final LinkCacheListener listener;

    public InMemoryLinkCache(InMemoryLinks links) {
        this(links, LinkCacheListener.NONE);
    }

    /** As {@link #InMemoryLinkCache(InMemoryLinks)}; {@code listener} hears lookups (always NEAR_HIT or MISS). */
    public InMemoryLinkCache(InMemoryLinks links, LinkCacheListener listener) {
        this.links = Objects.requireNonNull(links, "links");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    @Override
    public CompletableFuture<Optional<String>> targetAsync(String token, String service) {
        Tokens.require(token);
        if (service == null || service.isBlank()) {
            throw new IllegalArgumentException("service must not be blank");
        }
        Optional<String> owner = links.target(token, service);
        listener.lookup(service, owner.isPresent() ? LinkCacheListener.Outcome.NEAR_HIT : LinkCacheListener.Outcome.MISS);
        return CompletableFuture.completedFuture(owner);
    }

    @Override
    public CompletableFuture<String> linkAsync(String token, Node candidate) {
        Tokens.require(token);
        Objects.requireNonNull(candidate, "candidate");
        return CompletableFuture.completedFuture(links.link(token, candidate.service(), candidate.id()));
    }

    @Override
    public CompletableFuture<Void> relinkAsync(String token, Node node) {
        Tokens.require(token);
        Objects.requireNonNull(node, "node");
        links.relink(token, node.service(), node.id());
        listener.relinked(node.service());
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Integer> unlinkAsync(String token) {
        Tokens.require(token);
        return CompletableFuture.completedFuture(links.unlink(token));
    }

    @Override
    public CompletableFuture<Boolean> unlinkAsync(String token, Node owner) {
        Tokens.require(token);
        Objects.requireNonNull(owner, "owner");
        return CompletableFuture.completedFuture(links.unlink(token, owner.service(), owner.id()));
    }

    @Override
    public CompletableFuture<Long> downAsync(Node node) {
        Objects.requireNonNull(node, "node");
        return CompletableFuture.completedFuture(links.down(node.service(), node.id()));
    }

    @Override
    public CompletableFuture<Long> linkCountAsync(String nodeId) {
        Objects.requireNonNull(nodeId, "nodeId");
        return CompletableFuture.completedFuture(links.linkCount(nodeId));
    }

    @Override
    public void forgetNode(String nodeId) {
        // nothing cached
    }

    @Override
    public void close() {
        // nothing to release: the links belong to the shared InMemoryLinks
    }

}
