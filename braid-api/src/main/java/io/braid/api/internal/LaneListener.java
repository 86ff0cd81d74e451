package io.braid.api.internal;

/**
 * Hears how a server's token lanes are used, for metrics (braid-monitor records lane depth, wait
 * and run time, and the node's hot players). One listener per server; the server's service is the
 * listener's to know. Methods have empty defaults, are called on the thread that did the work (an
 * event loop putting a call into its lane, the thread that ended a turn), and must be quick, must
 * not block, must not throw and must not allocate per call: they take primitives and the token
 * the server already holds.
 *
 * <p>A server given {@link #NONE} (the default) reads no clock for its lanes.
 */
public interface LaneListener {
    /** A listener that hears nothing: the default, for which the lanes read no clock. */
    LaneListener NONE = new LaneListener() {
    };

    /**
     * A piece of work (a call, or a task such as a player's timer) entered a lane with
     * {@code ahead} pieces before it: 0 when the lane was free (it starts at once), else the one
     * holding the turn plus those waiting.
     */
    default void entered(int ahead) {
    }

    /**
     * A turn in {@code token}'s lane ended: the piece waited {@code waitNanos} from entering the
     * lane to starting to run (the wait for its thread included), and ran {@code runNanos}.
     * {@code call} is true for a call, false for a task that is no call.
     */
    default void turnEnded(String token, long waitNanos, long runNanos, boolean call) {
    }

    /**
     * A piece left a lane without running, after waiting {@code waitNanos}: its deadline passed or
     * its caller cancelled or went away while it waited.
     */
    default void leftUnrun(long waitNanos) {
    }

    /**
     * A served call that ran in its token's lane: how long it waited there. The server's calls
     * implement it, so a server interceptor (tracing) can read the wait without allocating.
     */
    interface Timed {
        /**
         * Nanoseconds from entering its lane to starting to run; -1 when the call runs in no lane,
         * or when its server reads no clock for lanes ({@link #NONE}).
         */
        long laneWaitNanos();
    }
}
