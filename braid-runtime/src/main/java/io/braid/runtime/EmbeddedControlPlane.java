package io.braid.runtime;

import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Pubsub;
import io.braid.api.Ticker;
import io.braid.discover.InMemoryDiscover;
import io.braid.elector.InMemoryElector;
import io.braid.linkcache.InMemoryLinkCache;
import io.braid.linkcache.LinkCacheListener;
import io.braid.linkcache.LinkWatcher;
import io.braid.pubsub.InMemoryPubsub;
import io.braid.pubsub.PubsubListener;

/**
 * A node's modules on an {@link InMemoryControlPlane}, the store that nodes of one JVM share. There
 * are no heartbeats to miss (the self-fence closes only when the node closes or learns its links
 * were cleared) and no near cache to forget.
 */
final class EmbeddedControlPlane implements ControlPlane {
    private final NodeOptions options;
    private final InMemoryControlPlane store;
    private final Closer closer;
    private InMemoryPubsub pubsub;

    EmbeddedControlPlane(NodeOptions options, InMemoryControlPlane store, Closer closer) {
        this.options = options;
        this.store = store;
        this.closer = closer;
    }

    @Override
    public Discover startDiscover() {
        InMemoryDiscover discover = new InMemoryDiscover(store.membership());
        closer.push(discover);
        return discover;
    }

    @Override
    public SelfFence selfFence(Ticker ticker) {
        return SelfFence.unconditional(ticker);
    }

    @Override
    public LinkCache startLinkCache(LinkCacheListener listener, LinkWatcher watcher) {
        InMemoryLinkCache links = new InMemoryLinkCache(store.links(), listener, watcher);
        closer.push(links);
        return links;
    }

    @Override
    public Pubsub startPubsub(PubsubListener listener) {
        pubsub = new InMemoryPubsub(store.streams(), options.nodeId, listener);
        closer.push(pubsub);
        return pubsub;
    }

    @Override
    public Elector startElector() {
        InMemoryElector elector = new InMemoryElector(store.elections(), options.service, options.nodeId);
        closer.push(elector);
        return elector;
    }

    @Override
    public long trim() {
        return pubsub.trim();
    }

    @Override
    public String description() {
        return "in-memory cluster " + store.name();
    }
}
