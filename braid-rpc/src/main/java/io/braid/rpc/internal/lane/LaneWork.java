package io.braid.rpc.internal.lane;

/**
 * A piece of work that runs in a token's {@link Lane}: a call of a method registered to run in
 * its token's lane. Its turn begins when {@link Lanes#enter} answers true (the caller starts it)
 * or when the lane calls {@link #takeTurn()}, and ends when it calls {@link Lane#endTurn} — exactly
 * once per turn, from any thread, however the work ends (answered, failed, expired, cancelled).
 */
public interface LaneWork {
    /**
     * The lane this work is being put into, told before it is offered there (so before its turn can
     * begin on any thread): the lane whose {@link Lane#endTurn} it calls, and where it withdraws
     * from when its deadline passes or its caller cancels while it waits.
     */
    void enteredLane(Lane lane);

    /**
     * The lane's turn passed to this work, which waited for it: start it now (hand it to the thread
     * it runs on; never run a blocking piece here). Called on whichever thread ended the turn
     * before, with no lock held.
     */
    void takeTurn();

    /** The lanes were closed (the server shuts down) while this work waited: it never runs; answer for it. */
    void refuse(io.braid.api.BraidException why);
}
