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
 *       or found its record gone from Redis), or its links were cleared while it ran
 *       ({@link #lapsed()}), less than {@code quarantine} ago: while it lapsed, the
 *       leader may have given its players to other nodes, and work routed here before the lapse
 *       (requests held in socket buffers while the process was frozen, a stream opened before
 *       Redis lost its data) must not run now. Such work is refused UNAVAILABLE and open token
 *       streams end; callers route again and find the player's owner as the link cache now has it.
 * </ul>
 * The in-memory control plane has no heartbeats: only closing closes its gate.
 */
final class SelfFence implements BooleanSupplier {
    private static final Duration MIN_QUARANTINE = Duration.ofSeconds(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    /** When {@link #lapsed()} was last called (System.nanoTime), or null. */
    private volatile Long lapsedAt;
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
        return heartbeat.compareTo(MIN_QUARANTINE) > 0 ? heartbeat : MIN_QUARANTINE;
    }

    /**
     * The node learned that the cluster took it for gone (its links were cleared): the gate closes
     * for the quarantine from now, as after a registration lapse.
     */
    void lapsed() {
        lapsedAt = System.nanoTime();
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
        Long local = lapsedAt;
        if (local != null && System.nanoTime() - local < (quarantine != null ? quarantine : MIN_QUARANTINE).toNanos()) {
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
