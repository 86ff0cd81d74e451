package io.braid.runtime;

import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.Pubsub;
import io.braid.monitor.NodeView;

/**
 * A node as its monitor sees it: the modules as the runtime built them (the store's own pub-sub,
 * whose topic figures the monitor reads, and the link cache without announcements), and the
 * operator actions, which go to the {@link Braid} itself.
 */
final class MonitoredNode implements NodeView {
    private final Braid braid;
    private final LinkCache links;
    private final Pubsub pubsub;

    MonitoredNode(Braid braid, LinkCache links, Pubsub pubsub) {
        this.braid = braid;
        this.links = links;
        this.pubsub = pubsub;
    }

    @Override
    public Node node() {
        return braid.node();
    }

    @Override
    public Discover discover() {
        return braid.discover();
    }

    @Override
    public Elector elector() {
        return braid.elector();
    }

    @Override
    public LinkCache linkCache() {
        return links;
    }

    @Override
    public Pubsub pubsub() {
        return pubsub;
    }

    @Override
    public void drain() {
        // A drain that cannot start (DRAINING not announced) has failed by the time drain() returns:
        // the operator's action answers that failure rather than the node's unchanged state.
        java.util.concurrent.CompletableFuture<Void> drained = braid.drain();
        if (drained.isCompletedExceptionally()) {
            throw io.braid.api.BraidException.from(drained.exceptionNow());
        }
    }

    @Override
    public void weight(int weight) {
        braid.weight(weight);
    }
}
