package io.braid.api.internal;

import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.Pubsub;

/**
 * What the monitor reads from (and, for operator actions, asks of) the node it runs in. The
 * runtime implements it; the monitor only borrows what it returns and closes none of it.
 */
public interface NodeView {
    /** This node as the cluster sees it now (its state and weight change). */
    Node node();

    Discover discover();

    Elector elector();

    LinkCache linkCache();

    /**
     * The node's pub-sub store; when it implements {@link io.braid.api.internal.PubsubStats}, the monitor
     * shows its topics.
     */
    Pubsub pubsub();

    /** Starts draining this node (returns at once; idempotent). */
    void drain();

    /** Changes this node's weight, 0..{@link Node#MAX_WEIGHT}, and registers the change. */
    void weight(int weight);
}
