package io.braid.api;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Who is in the cluster (go-micro's Registry). Reads come from a local view kept up to date in the
 * background, so {@link #nodes} and {@link #services} never do I/O and are cheap enough for every
 * call. Thread-safe.
 *
 * <p>{@link #close()} deregisters the nodes this instance registered and stops its background
 * work; it is idempotent.
 */
public interface Discover extends AutoCloseable {
    /**
     * The nodes of a service, ACTIVE and DRAINING, in a stable order (by id). The list is an
     * immutable snapshot: a new instance is returned after each change, the same instance while
     * nothing changes. Empty for an unknown service.
     */
    List<Node> nodes(String service);

    /**
     * Re-reads one service from the store now and completes with the fresh view. For the rare
     * moment a caller must not act on a view that may lag (a token owned by a node this view does
     * not show). The default, for stores that are never behind, is the current view.
     */
    default java.util.concurrent.CompletableFuture<List<Node>> refresh(String service) {
        return java.util.concurrent.CompletableFuture.completedFuture(nodes(service));
    }

    /** The services that have at least one node. */
    Set<String> services();

    /**
     * Calls {@code listener} for every ADDED, REMOVED and UPDATED node from now on, in order, on one
     * thread at a time. A listener must not block.
     */
    Subscription watch(Consumer<DiscoverEvent> listener);

    /** Adds this node to the cluster or replaces its record (same id); it stays until deregistered. */
    void register(Node node);

    /** Removes the node with this id, if this instance registered it. */
    void deregister(String nodeId);

    @Override
    void close();
}
