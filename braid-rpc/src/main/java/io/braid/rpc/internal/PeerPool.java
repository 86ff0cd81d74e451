package io.braid.rpc.internal;

import io.braid.api.Node;
import io.braid.api.Ticker;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The connections to one node: a fixed number of slots, used round robin, each filled on demand
 * and refilled when its connection closes. A node that sent GoAway is avoided for new stateless
 * calls for a while (it is shutting down; discovery will soon say so too).
 */
final class PeerPool {
    /** Makes a new connection to {@code pool}'s node; the connection starts CONNECTING. */
    interface Connector {
        ClientConnection connect(PeerPool pool);
    }

    private final Node node;
    private final Connector connector;
    private final AtomicReferenceArray<ClientConnection> slots;
    private final AtomicInteger next = new AtomicInteger();
    private final long avoidAfterGoAwayNanos;
    private final Ticker ticker;
    private volatile long avoidUntilNanos;
    private volatile boolean retired;

    PeerPool(Node node, int size, Connector connector, long avoidAfterGoAwayNanos, Ticker ticker) {
        this.ticker = ticker;
        this.node = node;
        this.connector = connector;
        this.slots = new AtomicReferenceArray<>(size);
        this.avoidAfterGoAwayNanos = avoidAfterGoAwayNanos;
    }

    Node node() {
        return node;
    }

    String describe() {
        return node.id() + " (" + node.address() + ")";
    }

    /** A usable connection, made now if its slot is empty or closing. */
    ClientConnection connection() {
        int slot = slots.length() == 1 ? 0 : Math.floorMod(next.getAndIncrement(), slots.length());
        ClientConnection current = slots.get(slot);
        if (current != null && current.usable()) {
            return current;
        }
        synchronized (this) {
            current = slots.get(slot);
            if (current == null || !current.usable()) {
                current = connector.connect(this);
                slots.set(slot, current);
                if (retired) {
                    current.retire();
                }
            }
            return current;
        }
    }

    /** True for a while after the node said GoAway. */
    boolean avoided() {
        long until = avoidUntilNanos;
        return until != 0 && ticker.read() - until < 0;
    }

    void goingAway(ClientConnection connection) {
        avoidUntilNanos = ticker.read() + avoidAfterGoAwayNanos;
        removed(connection);
    }

    void removed(ClientConnection connection) {
        int index = indexOf(connection);
        if (index >= 0) {
            slots.compareAndSet(index, connection, null);
        }
    }

    /** Node left discovery, or the client closes: connections close once their calls are answered. */
    void retire() {
        retired = true;
        for (int i = 0; i < slots.length(); i++) {
            ClientConnection connection = slots.getAndSet(i, null);
            if (connection != null) {
                connection.retire();
            }
        }
    }

    /** Closes every connection now; calls in flight fail with UNAVAILABLE. */
    void closeNow() {
        retired = true;
        for (int i = 0; i < slots.length(); i++) {
            ClientConnection connection = slots.getAndSet(i, null);
            if (connection != null && connection.channel() != null) {
                connection.channel().close();
            }
        }
    }

    private int indexOf(ClientConnection connection) {
        for (int i = 0; i < slots.length(); i++) {
            if (slots.get(i) == connection) {
                return i;
            }
        }
        return -1;
    }
}
