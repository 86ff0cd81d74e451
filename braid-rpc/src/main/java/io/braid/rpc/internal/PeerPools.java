package io.braid.rpc.internal;

import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.Ticker;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client's connections, one {@link PeerPool} per node id: made on first use, replaced when the
 * node's address changes, retired when discovery drops the node. Thread-safe.
 */
final class PeerPools {
    private final ConcurrentHashMap<String, PeerPool> pools = new ConcurrentHashMap<>();
    private final int connectionsPerPeer;
    private final PeerPool.Connector connector;
    private final long avoidAfterGoAwayNanos;
    private final Ticker ticker;

    /** @param avoidAfterGoAway how long a node that sent GoAway gets no new stateless calls */
    PeerPools(int connectionsPerPeer, PeerPool.Connector connector, Duration avoidAfterGoAway, Ticker ticker) {
        this.connectionsPerPeer = connectionsPerPeer;
        this.connector = connector;
        this.avoidAfterGoAwayNanos = avoidAfterGoAway.toNanos();
        this.ticker = ticker;
    }

    /** A usable connection to {@code node}, made now if needed. */
    ClientConnection connection(Node node) {
        return pool(node).connection();
    }

    /** True while {@code node} is avoided after its GoAway. */
    boolean avoided(Node node) {
        PeerPool pool = pools.get(node.id());
        return pool != null && pool.avoided();
    }

    private PeerPool pool(Node node) {
        PeerPool pool = pools.get(node.id());
        if (pool != null && sameAddress(pool.node(), node)) {
            return pool;
        }
        return pools.compute(node.id(), (id, old) -> {
            if (old != null && sameAddress(old.node(), node)) {
                return old;
            }
            if (old != null) {
                old.retire();
            }
            return new PeerPool(node, connectionsPerPeer, connector, avoidAfterGoAwayNanos, ticker);
        });
    }

    /** Node.address() equality, without building the two strings on every call. */
    private static boolean sameAddress(Node a, Node b) {
        return a.port() == b.port() && a.host().equals(b.host());
    }

    /** A node that left, or moved to another address: its connections close once their calls are answered. */
    void onMembership(DiscoverEvent event) {
        Node node = event.node();
        boolean gone = switch (event.type()) {
            case REMOVED -> true;
            case UPDATED -> !event.previous().address().equals(node.address());
            case ADDED -> false;
        };
        if (gone) {
            PeerPool pool = pools.remove(node.id());
            if (pool != null) {
                pool.retire();
            }
        }
    }

    /** Nodes this client holds connections to. */
    int size() {
        return pools.size();
    }

    /** No new calls: every connection closes once its calls are answered. */
    void retireAll() {
        for (PeerPool pool : pools.values()) {
            pool.retire();
        }
    }

    /** Closes every connection now; calls in flight fail UNAVAILABLE. */
    void closeAll() {
        for (PeerPool pool : pools.values()) {
            pool.closeNow();
        }
        pools.clear();
    }
}
