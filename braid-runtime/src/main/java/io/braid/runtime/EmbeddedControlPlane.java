package io.braid.runtime;

import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.PlayerStore;
import io.braid.api.Pubsub;
import io.braid.api.Ticker;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.LinkWatcher;
import io.braid.api.internal.PubsubListener;
import io.braid.discover.internal.InMemoryDiscover;
import io.braid.elector.internal.InMemoryElector;
import io.braid.linkcache.internal.InMemoryLinkCache;
import io.braid.pubsub.internal.InMemoryPubsub;

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

    /** The plane's one store: nothing to close, it lives as long as the plane. */
    @Override
    public PlayerStore playerStore() {
        return store.playerStore();
    }

    /** The plane's one store: nothing to close, it lives as long as the plane. */
    @Override
    public GatewaySessionStore gatewaySessions() {
        return store.gatewaySessions();
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
