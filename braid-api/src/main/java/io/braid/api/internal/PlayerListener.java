package io.braid.api.internal;

import io.braid.api.PlayerStates.Activation;
import io.braid.api.PlayerStates.Deactivation;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Hears what happens to a node's players and to its self-fence, for metrics (braid-monitor counts
 * these). One listener per node; the node's service is the listener's to know. Methods have empty
 * defaults, are called on the thread that did the work (a player's lane, the node's scheduler, a
 * caller asking the token gate), and must be quick, must not block and must not throw.
 *
 * <p>Every activation is told once by {@link #activated} and, when it ends, once by
 * {@link #deactivated}, so a listener may count the players active now as the difference.
 */
public interface PlayerListener {
    /** A listener that hears nothing: the default. */
    PlayerListener NONE = new PlayerListener() {
    };

    /** Why a player this node tried to hand over did not move to the node it was offered to. */
    enum NotMoved {
        /** No target took it, or the node began closing before the move's outcome was known: it stays here. */
        STAYED,
        /** Its link changed meanwhile (the activation here was stale): it ended here, but moved to no target of ours. */
        STALE,
        /** Its state could not be snapshotted (the user's {@code PlayerStates.snapshot} threw): it stays here. */
        FAILED
    }

    /** How a save of a player's snapshot to its store ended. */
    enum SaveOutcome {
        /** The store took it. */
        SAVED,
        /** The store refused it: a newer owner of the player exists (the activation here ends). */
        REFUSED,
        /** The store could not be reached or failed: the state is not saved. */
        FAILED
    }

    /** A player was activated here, {@code how}. */
    default void activated(Activation how) {
    }

    /** An activation here ended, {@code why}. */
    default void deactivated(Deactivation why) {
    }

    /**
     * A player of this node was handed over to {@code toNode} (its link moved there; a player with
     * no state active here, relocated by a draining node, included); the hand-over took {@code took}
     * from the offer to the known outcome.
     */
    default void handedOver(String toNode, Duration took) {
    }

    /** A hand-over of a player of this node did not move it to a target, {@code why}. */
    default void notHandedOver(NotMoved why) {
    }

    /**
     * A hand-over of player {@code token} by this node ended (for a span per hand-over; told with,
     * not instead of, {@link #handedOver} / {@link #notHandedOver}): {@code notMoved} null when it
     * moved to {@code toNode}, else why not ({@code toNode} then the last node offered it, or null
     * when none was); {@code took} from its start (the snapshot) to the known outcome.
     */
    default void handOverEnded(String token, String toNode, NotMoved notMoved, Duration took) {
    }

    /**
     * The outcome of an offer this node held said player {@code token} moved here under
     * {@code epoch}, {@code held} after the offer came (its activation here follows, in its lane).
     */
    default void handOverReceived(String token, long epoch, Duration held) {
    }

    /** A player handed over to this node by another is taken here (its activation follows). */
    default void received() {
    }

    /** A save of a player's snapshot (write-through, periodic, or on deactivation) ended so. */
    default void saved(SaveOutcome outcome) {
    }

    /** A rebalance round began that moves {@code moves} players of this node to nodes below their share. */
    default void rebalanced(int moves) {
    }

    /**
     * The node's self-fence closed: it may not act for its players (its registration is not
     * confirmed, or lapsed and is in quarantine). Told once per closure, when the node notices it
     * (on a token call, its periodic check, or the listener asking it, see {@link #watchFence});
     * not told when the node closes for good.
     */
    default void fenceClosed() {
    }

    /** The node's self-fence opened again after {@link #fenceClosed}. */
    default void fenceOpened() {
    }

    /**
     * Lends the listener the node's self-fence, {@code true} while open, when the node starts
     * telling it closures: a listener may ask it when it reads the fence's state (a gauge read at
     * scrape time), and asking tells {@link #fenceClosed}/{@link #fenceOpened} as any ask does.
     * Quick; returns {@code false} without telling anything once the node closes.
     */
    default void watchFence(BooleanSupplier open) {
    }
}
