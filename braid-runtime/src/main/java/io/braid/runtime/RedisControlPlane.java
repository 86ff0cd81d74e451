package io.braid.runtime;

import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.PlayerStore;
import io.braid.api.Pubsub;
import io.braid.api.Ticker;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.LinkWatcher;
import io.braid.api.internal.PubsubListener;
import io.braid.discover.internal.RedisDiscover;
import io.braid.elector.internal.RedisElector;
import io.braid.linkcache.internal.RedisLinkCache;
import io.braid.linkcache.internal.RedisPlayerStore;
import io.braid.pubsub.internal.RedisPubsub;
import io.braid.redis.RedisConnector;
import io.braid.redis.internal.RedisGatewaySessions;
import java.time.Duration;

/**
 * A node's modules on Redis (standalone, Sentinel or Cluster), through one connector. Every Redis
 * module's builder is made here, from the node's options, with the node's ticker. The modules keep
 * their own loop threads: their blocking entry points (a discover's first read, an elector's
 * release on close) must not wait on a scheduler they share with the node's own tasks.
 */
final class RedisControlPlane implements ControlPlane {
    private final NodeOptions options;
    private final RedisConnector connector;
    private final Closer closer;
    private RedisDiscover discover;
    private RedisPubsub pubsub;
    private RedisPlayerStore playerStore;
    private RedisGatewaySessions gatewaySessions;

    RedisControlPlane(NodeOptions options, RedisConnector connector, Closer closer) {
        this.options = options;
        this.connector = connector;
        this.closer = closer;
    }

    @Override
    public Discover startDiscover() {
        discover = RedisDiscover.builder(connector).heartbeat(options.heartbeat).ttl(options.ttl).ticker(options.ticker)
                .build();
        closer.push(discover);
        return discover;
    }

    @Override
    public SelfFence selfFence(Ticker ticker) {
        RedisDiscover registration = discover;
        return SelfFence.of(new SelfFence.Registration() {
            @Override
            public Duration sinceConfirmed() {
                return registration.sinceLastHeartbeat();
            }

            @Override
            public Duration sinceLapse() {
                return registration.sinceRegistrationLapse();
            }
        }, options.heartbeat, options.ttl, ticker);
    }

    @Override
    public LinkCache startLinkCache(LinkCacheListener listener, LinkWatcher watcher) {
        RedisLinkCache links = RedisLinkCache.builder(connector).nearCache(options.nearCache)
                .stalenessBound(options.stalenessBound).listener(listener).watcher(watcher).ticker(options.ticker).build();
        closer.push(links);
        // A lapse is how a node sees Redis lose data (its record gone): the links it lost published
        // no invalidation, so the near cache must not vouch for them.
        discover.onRegistrationLapse(links::storeLostData);
        // A node that left discovery owns nothing: no near cache may still route to it.
        closer.push(discover.watch(event -> {
            if (event.type() == DiscoverEvent.Type.REMOVED) {
                links.forgetNode(event.node().id());
            }
        }));
        return links;
    }

    @Override
    public Pubsub startPubsub(PubsubListener listener) {
        pubsub = RedisPubsub.builder(connector).consumerName(options.nodeId).block(NodeOptions.PUBSUB_BLOCK)
                .ephemeralIdleLimit(options.ephemeralIdleLimit).listener(listener).ticker(options.ticker).build();
        closer.push(pubsub);
        return pubsub;
    }

    @Override
    public Elector startElector() {
        RedisElector elector = RedisElector.builder(connector).service(options.service).nodeId(options.nodeId)
                .lease(options.lease).ticker(options.ticker).build();
        closer.push(elector);
        return elector;
    }

    /** Keyed by the link cache's default shards, as {@link #startLinkCache} builds it, so each save is one slot. */
    @Override
    public PlayerStore playerStore() {
        if (playerStore == null) {
            playerStore = new RedisPlayerStore(connector, RedisPlayerStore.DEFAULT_SHARDS);
            closer.push(playerStore);
        }
        return playerStore;
    }

    /** Made on first use (a gateway's start), with a connection of its own, closed with the node. */
    @Override
    public synchronized GatewaySessionStore gatewaySessions() {
        if (gatewaySessions == null) {
            gatewaySessions = new RedisGatewaySessions(connector);
            closer.push(gatewaySessions);
        }
        return gatewaySessions;
    }

    @Override
    public long trim() {
        return pubsub.trim();
    }

    @Override
    public String description() {
        return connector.description();
    }
}
