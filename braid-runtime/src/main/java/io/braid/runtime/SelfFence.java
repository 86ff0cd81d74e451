package io.braid.runtime;

import io.braid.api.Ticker;
import io.braid.api.internal.PlayerListener;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
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
 * The in-memory control plane has no heartbeats: only closing and {@link #lapsed()} close its
 * gate. Its own times (the quarantine after {@link #lapsed()}) are read from the node's
 * {@link Ticker}; the registration's age is its control plane's answer.
 *
 * <p>Its {@linkplain #listen listener} is told when the fence closes and opens again for any reason
 * but the node's close, as this fence notices it: each time it is asked ({@link #getAsBoolean()}:
 * on token calls, when the listener reads it, and every {@link #CHECK_EVERY} on the node's
 * scheduler). Two askers that race across a transition may tell it in the wrong order; the next
 * ask puts it right. Thread-safe.
 */
final class SelfFence implements BooleanSupplier {
    /** What the control plane knows of this node's registration. Thread-safe and quick: read per call. */
    interface Registration {
        /** How long ago the registration was last confirmed (measured from when that confirmation was sent). */
        Duration sinceConfirmed();

        /** How long ago the registration came back from its last lapse, or null if it never lapsed. */
        Duration sinceLapse();
    }

    private static final Duration MIN_QUARANTINE = Duration.ofSeconds(1);
    /** How often the node asks its fence with no calls coming, so a closure is told within this. */
    static final Duration CHECK_EVERY = Duration.ofMillis(200);
    /** The registration of a node that has none to lose (the in-memory plane). */
    private static final Registration ALWAYS_CONFIRMED = new Registration() {
        @Override
        public Duration sinceConfirmed() {
            return Duration.ZERO;
        }

        @Override
        public Duration sinceLapse() {
            return null;
        }
    };

    private final AtomicBoolean closed = new AtomicBoolean();
    /** When {@link #lapsed()} was last called (the ticker's reading), or null. */
    private volatile Long lapsedAt;
    private final Registration registration;
    private final Duration window;
    private final Duration quarantine;
    private final Ticker ticker;
    private volatile PlayerListener listener = PlayerListener.NONE;
    /** Whether the listener was last told the fence is closed. */
    private volatile boolean toldClosed;

    private SelfFence(Registration registration, Duration window, Duration quarantine, Ticker ticker) {
        this.registration = registration;
        this.window = window;
        this.quarantine = quarantine;
        this.ticker = ticker;
    }

    /** The fence of a node whose registration lives under these discovery settings. */
    static SelfFence of(Registration registration, Duration heartbeat, Duration ttl, Ticker ticker) {
        return new SelfFence(registration, window(ttl), quarantine(heartbeat), ticker);
    }

    /** The fence of a node on the in-memory control plane: open until closed or lapsed. */
    static SelfFence unconditional(Ticker ticker) {
        return new SelfFence(ALWAYS_CONFIRMED, ChronoUnit.FOREVER.getDuration(), MIN_QUARANTINE, ticker);
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
        lapsedAt = ticker.read();
    }

    /** How long ago the node's registration was last confirmed (zero on the in-memory plane): the timeline's Redis watch. */
    Duration sinceConfirmed() {
        return registration.sinceConfirmed();
    }

    /** Whether the node's close began (the fence is closed for good). */
    boolean closing() {
        return closed.get();
    }

    /** Closes the gate for good: the node is closing. */
    void close() {
        closed.set(true);
    }

    /**
     * Tells {@code listener} when this fence closes and opens from now on (see the class comment),
     * starting from open: a fence closed now is told closed the next time it is asked.
     */
    synchronized void listen(PlayerListener listener) {
        this.listener = listener;
        toldClosed = false;
        listener.watchFence(this);
    }

    @Override
    public boolean getAsBoolean() {
        if (closed.get()) {
            return false; // the node closes: no news for the listener
        }
        boolean open = open();
        if (open == toldClosed) {
            tell(open);
        }
        return open;
    }

    private synchronized void tell(boolean open) {
        if (open != toldClosed) {
            return; // told meanwhile
        }
        toldClosed = !open;
        if (open) {
            listener.fenceOpened();
        } else {
            listener.fenceClosed();
        }
    }

    private boolean open() {
        Long local = lapsedAt;
        if (local != null && ticker.read() - local < quarantine.toNanos()) {
            return false;
        }
        if (registration.sinceConfirmed().compareTo(window) >= 0) {
            return false;
        }
        Duration sinceLapse = registration.sinceLapse();
        return sinceLapse == null || sinceLapse.compareTo(quarantine) >= 0;
    }
}
