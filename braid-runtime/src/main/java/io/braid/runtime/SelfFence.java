package io.braid.runtime;

import io.braid.discover.RedisDiscover;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Whether this node may act for its players now: the token gate of its RPC server, asked for
 * every token call, before every message of a token stream and periodically for open streams.
 * Closed when any of these holds:
 * <ul>
 *   <li>the node is closing ({@link #close()});
 *   <li>it has not confirmed its registration for the fence window ({@code ttl - ttl/3}): the
 *       cluster may soon take it for gone (see {@link Braid.Builder#heartbeat});
 *   <li>its registration lapsed (a confirmed heartbeat came more than a TTL after the one before,
 *       or found its record gone from Redis) less than {@code quarantine} ago: while it lapsed, the
 *       leader may have given its players to other nodes, and work routed here before the lapse
 *       (requests held in socket buffers while the process was frozen, a stream opened before
 *       Redis lost its data) must not run now. Such work is refused UNAVAILABLE and open token
 *       streams end; callers route again and find the player's owner as the link cache now has it.
 * </ul>
 * The in-memory control plane has no heartbeats: only closing closes its gate.
 */
final class SelfFence implements BooleanSupplier {
    private final AtomicBoolean closed = new AtomicBoolean();
    private final RedisDiscover discover;
    private final Duration window;
    private final Duration quarantine;

    private SelfFence(RedisDiscover discover, Duration window, Duration quarantine) {
        this.discover = discover;
        this.window = window;
        this.quarantine = quarantine;
    }

    /** The fence of a node registered in Redis with these discovery settings. */
    static SelfFence of(RedisDiscover discover, Duration heartbeat, Duration ttl) {
        return new SelfFence(discover, window(ttl), quarantine(heartbeat));
    }

    /** The fence of a node on the in-memory control plane: open until closed. */
    static SelfFence inMemory() {
        return new SelfFence(null, null, null);
    }

    /** How long after its last confirmed heartbeat was sent a node stops acting for its players. */
    static Duration window(Duration ttl) {
        return ttl.minus(ttl.dividedBy(3));
    }

    /**
     * How long token work waits after a registration lapse: at least a second, so requests read
     * from socket buffers after a freeze are refused, and stale near-cache routes elsewhere (bounded
     * by the link cache's staleness bound, default 1 s) have expired; at least one heartbeat.
     */
    static Duration quarantine(Duration heartbeat) {
        Duration floor = Duration.ofSeconds(1);
        return heartbeat.compareTo(floor) > 0 ? heartbeat : floor;
    }

    /** Closes the gate for good: the node is closing. */
    void close() {
        closed.set(true);
    }

    @Override
    public boolean getAsBoolean() {
        if (closed.get()) {
            return false;
        }
        if (discover == null) {
            return true;
        }
        if (discover.sinceLastHeartbeat().compareTo(window) >= 0) {
            return false;
        }
        Duration sinceLapse = discover.sinceRegistrationLapse();
        return sinceLapse == null || sinceLapse.compareTo(quarantine) >= 0;
    }
}
