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
    private final AutoCloseable watch;

    public InMemoryLinkCache(InMemoryLinks links) {
        this(links, LinkCacheListener.NONE);
    }

    /** As {@link #InMemoryLinkCache(InMemoryLinks)}; {@code listener} hears lookups (always NEAR_HIT or MISS). */
    public InMemoryLinkCache(InMemoryLinks links, LinkCacheListener listener) {
        this(links, listener, null);
    }

    /**
     * As {@link #InMemoryLinkCache(InMemoryLinks, LinkCacheListener)}; {@code watcher} (may be null)
     * hears every change of the shared links, made by any instance, until this one is closed. Its
     * changes are never lost, so it is never told {@link LinkWatcher#mayHaveMissed}.
     */
    public InMemoryLinkCache(InMemoryLinks links, LinkCacheListener listener, LinkWatcher watcher) {
        this.links = Objects.requireNonNull(links, "links");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.watch = watcher == null ? null : links.watch(watcher);
    }

    @Override
    public CompletableFuture<Optional<String>> targetAsync(String token, String service) {
        String bad = LinkArguments.tokenAndService(token, service);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        Optional<String> owner = links.target(token, service);
        listener.lookup(service, owner.isPresent() ? LinkCacheListener.Outcome.NEAR_HIT : LinkCacheListener.Outcome.MISS);
        return CompletableFuture.completedFuture(owner);
    }

    @Override
    public CompletableFuture<String> linkAsync(String token, Node candidate) {
        String bad = LinkArguments.tokenAndNode(token, candidate, "candidate");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return CompletableFuture.completedFuture(links.link(token, candidate.service(), candidate.id()));
    }

    @Override
    public CompletableFuture<Void> relinkAsync(String token, Node node) {
        String bad = LinkArguments.tokenAndNode(token, node, "node");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        links.relink(token, node.service(), node.id());
        listener.relinked(node.service());
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Integer> unlinkAsync(String token) {
        String bad = LinkArguments.token(token);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return CompletableFuture.completedFuture(links.unlink(token));
    }

    @Override
    public CompletableFuture<Boolean> unlinkAsync(String token, Node owner) {
        String bad = LinkArguments.tokenAndNode(token, owner, "owner");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return CompletableFuture.completedFuture(links.unlink(token, owner.service(), owner.id()));
    }

    @Override
    public CompletableFuture<Long> downAsync(Node node) {
        String bad = LinkArguments.node(node, "node");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return CompletableFuture.completedFuture(links.down(node.service(), node.id()));
    }

    @Override
    public CompletableFuture<Long> linkCountAsync(String nodeId) {
        String bad = LinkArguments.nodeId(nodeId);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return CompletableFuture.completedFuture(links.linkCount(nodeId));
    }

    @Override
    public void forgetNode(String nodeId) {
        // nothing cached
    }

    @Override
    public void close() {
        // the links belong to the shared InMemoryLinks: only the watch is ours
        if (watch != null) {
            try {
                watch.close();
            } catch (Exception e) {
                throw new IllegalStateException(e); // removing from a list does not fail
            }
        }
    }

}
