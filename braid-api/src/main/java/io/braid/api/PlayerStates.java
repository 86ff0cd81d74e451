package io.braid.api;

/**
 * How a logic service makes, saves and ends the state of one player (one token) on the node that
 * owns it. The node calls these methods in the player's lane (see {@link Player}), one at a time
 * with the player's calls and timers, so the state needs no lock of its own.
 *
 * <p>Lifecycle of one activation: {@link #activate} on the first call of the token on this node,
 * then {@link #activated} with the {@link Player} (its epoch, its timers), then handlers and timers
 * get the state, then {@link #deactivate} exactly once with the reason. A node activates a player
 * only while the player's link names it, under that link's epoch ({@link Player#epoch()}).
 * After a deactivation the next call of the token activates it afresh.
 *
 * @param <S> the state of one player
 */
public interface PlayerStates<S> {
    /**
     * Makes the state of {@code token}'s player. Runs in the player's lane before the call that
     * needs it. Throwing fails that call: a {@link BraidException} with its own code, anything else
     * with {@link Code#UNAVAILABLE} and the exception's message (the call's handler never ran, so the
     * caller may try again); the player stays inactive.
     *
     * @param how      where the state comes from
     * @param snapshot the bytes {@link #snapshot} made, for {@link Activation#HANDOFF} and
     *                 {@link Activation#STORE}; null for {@link Activation#FRESH}
     * @return the state; must not be null
     */
    S activate(String token, Activation how, byte[] snapshot) throws Exception;

    /**
     * The activation {@link #activate} began is in place: {@code player} has its state and the
     * epoch it was activated under. Runs in the player's lane right after {@link #activate}, before
     * the handler of the call that activated it, so a restored state can re-arm its timers here
     * ({@link Player#after}). Throwing is logged; the player stays active and the call runs. The
     * default does nothing.
     */
    default void activated(Player<S> player) {
    }

    /**
     * The state as bytes, to activate it elsewhere (a drain's handoff) or later (a store's
     * {@link PlayerStore}). Runs in the player's lane. The default has no snapshot (null): such a
     * player is not handed over (a drain keeps it until it leaves) and nothing of it is saved.
     * What it throws keeps the player where it is (logged).
     */
    default byte[] snapshot(S state) {
        return null;
    }

    /**
     * The activation of this state ended, for {@code why}; called exactly once per activation, in the
     * player's lane after the piece of work that ran before it. Timers of the activation never run
     * after it. What it throws is logged; the activation has ended all the same.
     */
    void deactivate(S state, Deactivation why) throws Exception;

    /** Where an activation's state comes from. */
    enum Activation {
        /** A new state: the player has none on this node, no handoff brought one, and no store holds one. */
        FRESH,
        /** From the snapshot its previous owner made when it handed the player over (a drain). */
        HANDOFF,
        /** From the snapshot a {@link PlayerStore} kept (the player's owner saved it, see {@code Players}). */
        STORE
    }

    /** Why an activation ended. */
    enum Deactivation {
        /** The player's link was removed (logout, unlink): nobody owns it now. */
        LEFT,
        /** No call or timer of the player ran for the idle timeout. */
        IDLE,
        /** The player was linked to another node: that node serves it now, this one refuses its calls. */
        MOVED,
        /** This node is closing. */
        CLOSING
    }
}
