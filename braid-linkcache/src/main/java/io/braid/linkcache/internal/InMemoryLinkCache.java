package io.braid.linkcache.internal;

import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.LinkWatcher;
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
    public CompletableFuture<Optional<Link>> linkOfAsync(String token, String service) {
        String bad = LinkArguments.tokenAndService(token, service);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        Optional<Link> link = links.target(token, service);
        listener.lookup(service, link.isPresent() ? LinkCacheListener.Outcome.NEAR_HIT : LinkCacheListener.Outcome.MISS);
        return CompletableFuture.completedFuture(link);
    }

    /** Every link is in memory here: the link itself (the listener hears a NEAR_HIT), or null when there is none. */
    @Override
    public Link cachedLinkOf(String token, String service) {
        if (LinkArguments.tokenAndService(token, service) != null) {
            return null;
        }
        Optional<Link> link = links.target(token, service);
        if (link.isEmpty()) {
            return null;
        }
        listener.lookup(service, LinkCacheListener.Outcome.NEAR_HIT);
        return link.get();
    }

    @Override
    public CompletableFuture<Link> claimAsync(String token, Node candidate) {
        String bad = LinkArguments.tokenAndNode(token, candidate, "candidate");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        return CompletableFuture.completedFuture(links.link(token, candidate.service(), candidate.id()));
    }

    @Override
    public CompletableFuture<Link> lookUpOrLinkAsync(String token, Node candidate) {
        return claimAsync(token, candidate).thenApply(link -> {
            listener.lookup(candidate.service(), link.nodeId().equals(candidate.id())
                    ? LinkCacheListener.Outcome.MISS : LinkCacheListener.Outcome.NEAR_HIT);
            return link;
        });
    }

    @Override
    public CompletableFuture<Link> relinkAsync(String token, Node node) {
        String bad = LinkArguments.tokenAndNode(token, node, "node");
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        Link link = links.relink(token, node.service(), node.id());
        listener.relinked(node.service());
        return CompletableFuture.completedFuture(link);
    }

    @Override
    public CompletableFuture<Optional<Link>> moveAsync(String token, Link expected, Node to) {
        String bad = LinkArguments.move(token, expected, to);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        Optional<Link> moved = links.move(token, to.service(), expected, to.id());
        if (moved.isPresent() && !moved.get().equals(expected)) {
            listener.relinked(to.service());
        }
        return CompletableFuture.completedFuture(moved);
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
