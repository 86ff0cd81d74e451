package io.braid.api;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * One active player on the node that owns it: its token, its state, and timers that run in its
 * lane. A player's calls and timers run one at a time, in arrival order, in the player's lane, so
 * a handler reads and changes {@link #state()} without locks.
 *
 * <p>Use it only in the lane: in the handler or timer it was given to, on that thread.
 * {@link #after} called anywhere else throws IllegalStateException.
 *
 * @param <S> the state of one player
 */
public interface Player<S> {
    /** The player's token. */
    String token();

    /**
     * The epoch of the player's link under which this node activated it ({@link Link#epoch()}):
     * the node acts for the player only under it. A change of the link to another node with a
     * higher epoch ends this activation (MOVED); a change with this epoch or a lower one is older
     * than the activation and ignored. A later activation of the player on this node has a higher
     * epoch (its link changed owner in between). State writes to a store should carry it.
     */
    long epoch();

    /** The state {@link PlayerStates#activate} made for this activation. */
    S state();

    /**
     * Runs {@code action} in this player's lane after {@code delay} (one at a time with its calls),
     * unless cancelled or this activation has ended by then: a timer never runs after its
     * activation's deactivation. A timer that comes due while the node may not act for the player (its
     * self-fence is closed, or the player was given to another node), or that finds its lane full
     * ({@code maxLaneDepth}) or its node closing, is dropped and logged. What the action throws is logged; the player stays active.
     *
     * @throws IllegalStateException when called outside this player's lane
     * @throws IllegalArgumentException for a null or negative delay or a null action
     */
    Timer after(Duration delay, Consumer<Player<S>> action);

    /** A timer armed by {@link #after}. Thread-safe. */
    interface Timer {
        /** Stops the timer if it has not started running; true when it will not run because of this call. */
        boolean cancel();
    }
}
