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
import io.braid.redis.RedisConnector;
import io.netty.channel.EventLoopGroup;

/**
 * Where a node keeps what the cluster shares (membership, election, links, topics, player
 * snapshots): Redis ({@link RedisControlPlane}) or the in-memory store of one JVM
 * ({@link EmbeddedControlPlane}). It starts the node's discovery, link cache, pub-sub and election,
 * in that order, pushing each onto the node's {@link Closer} as it starts, and answers what the
 * runtime asks of them whatever they run on: the registration the self-fence reads, the leader's
 * trim, the player store, a description for the logs.
 * The runtime holds only the module interfaces it gets from here.
 */
interface ControlPlane {
    /**
     * The plane the options choose (Redis by URI, by cluster seeds, a borrowed connector, or the
     * in-memory store; default the store named "default"). A connection made here is the node's
     * and goes onto {@code closer}; its Redis I/O runs on the node's {@code eventLoops}. A borrowed
     * connector is never closed.
     */
    static ControlPlane open(NodeOptions options, EventLoopGroup eventLoops, Closer closer) {
        RedisConnector connector = options.redis;
        if (connector == null && options.redisUri != null) {
            connector = RedisConnector.connect(options.redisUri, options.redisCommandTimeout, options.redisTls,
                    eventLoops);
            closer.push(connector);
        } else if (connector == null && options.redisClusterUris != null) {
            connector = RedisConnector.connectCluster(options.redisClusterUris, options.redisCommandTimeout,
                    options.redisTls, eventLoops);
            closer.push(connector);
        }
        if (connector != null) {
            return new RedisControlPlane(options, connector, closer);
        }
        return new EmbeddedControlPlane(options, options.plane != null ? options.plane
                : InMemoryControlPlane.named("default"), closer);
    }

    /** Starts discovery (first: everything else may ask it). */
    Discover startDiscover();

    /** The fence on this node's registration, as discovery confirms it (after {@link #startDiscover()}). */
    SelfFence selfFence(Ticker ticker);

    /**
     * Starts the link cache, telling {@code watcher} of every link change it learns of. Whatever the
     * cache keeps near (Redis) it forgets for a node that leaves discovery, and distrusts when
     * discovery sees the store lose data.
     */
    LinkCache startLinkCache(LinkCacheListener listener, LinkWatcher watcher);

    /** Starts pub-sub, consuming as this node. */
    Pubsub startPubsub(PubsubListener listener);

    /** Starts this node's seat in its service's election. */
    Elector startElector();

    /**
     * The store of player snapshots on this plane, fenced by the epochs of the links the plane's
     * link cache keeps: made on the first call, the same one after. On Redis it has a connection of
     * its own on the plane's connector and goes onto the node's {@link Closer} (so call it while the
     * node starts, on the starting thread, as the start methods are); in memory it is the plane's
     * one store, shared by every node of the plane, so a node loads what another saved.
     */
    PlayerStore playerStore();

    /**
     * braid-gateway's durable session records on this plane: made on the first call, the same one
     * after. On Redis it has a connection of its own and goes onto the node's {@link Closer}; in
     * memory it is the plane's one store, shared by every node of the plane.
     */
    GatewaySessionStore gatewaySessions();

    /**
     * The leader's trim: cuts every topic below what its channels still need (on Redis also
     * removing the ephemeral channels of nodes that stopped marking them); how many messages went.
     */
    long trim();

    /** Where the plane is, for the logs. */
    String description();
}
