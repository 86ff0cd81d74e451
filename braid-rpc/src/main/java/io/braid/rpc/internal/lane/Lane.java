package io.braid.rpc.internal.lane;

import java.util.ArrayDeque;

/**
 * The lane of one token on one server: at most one {@link LaneWork} holds its turn; the others
 * wait in arrival order. A lane exists only while it has work: the turn that ends with nothing
 * waiting retires it and takes it out of its {@link Lanes}, so an idle lane costs nothing. It holds
 * no thread, ever: the work it runs is handed to the server's executors.
 *
 * <p>Thread-safe: its state changes under its own monitor, held for a few field writes and never
 * across running work or I/O. Measured (braid-bench {@code --only lanes}): 56 bytes with its map
 * entry while one call runs, 138 with one more waiting (the queue is made at the first wait).
 */
public final class Lane {
    private final Lanes lanes;
    private final String token;
    /** The work holding the turn; null once retired. */
    private LaneWork current;
    /** Created at the first wait. */
    private ArrayDeque<LaneWork> waiting;
    private boolean retired;

    Lane(Lanes lanes, String token) {
        this.lanes = lanes;
        this.token = token;
    }

    public String token() {
        return token;
    }

    /**
     * Gives {@code work} the turn when the lane is free (0: the caller starts it now), else queues
     * it and answers how many pieces are ahead of it (the one holding the turn and those waiting
     * before it). Throws {@link Lanes.Full} when {@code maxWaiting} already wait, and returns -1
     * when this lane has retired (the caller takes a new one).
     */
    synchronized int offer(LaneWork work, int maxWaiting) {
        if (retired) {
            return -1;
        }
        if (current == null) {
            current = work;
            return 0;
        }
        if (waiting == null) {
            waiting = new ArrayDeque<>(4);
        } else if (waiting.size() >= maxWaiting) {
            throw Lanes.Full.INSTANCE;
        }
        waiting.addLast(work);
        return waiting.size();
    }

    /**
     * The clock of this lane's wait and run times: the ticker's reading when a listener hears the
     * lanes, else 0 (no clock is read). Works stamp their entry and start with it.
     */
    public long now() {
        return lanes.now();
    }

    /** Whether a listener hears these lanes (else {@link #now()} reads no clock and answers 0). */
    public boolean timed() {
        return lanes.heard();
    }

    /**
     * Tells the lanes' listener that a turn of this lane ended: {@code work} entered at
     * {@code enteredNanos} and started running at {@code startedNanos} (readings of {@link #now()}).
     * Call before {@link #endTurn}. Allocates nothing.
     */
    public void turnEnded(long enteredNanos, long startedNanos, boolean call) {
        if (lanes.heard()) {
            lanes.listener.turnEnded(token, startedNanos - enteredNanos, lanes.now() - startedNanos, call);
        }
    }

    /**
     * Ends {@code work}'s turn: the next waiting work takes it (on this thread, through
     * {@link LaneWork#takeTurn()}), or the lane retires. Does nothing when {@code work} does not
     * hold the turn, so a second end of one turn changes nothing.
     */
    public void endTurn(LaneWork work) {
        LaneWork next;
        synchronized (this) {
            if (current != work || work == null) {
                return;
            }
            next = waiting == null ? null : waiting.pollFirst();
            current = next;
            if (next == null) {
                retired = true;
                lanes.retire(this);
            }
        }
        if (next != null) {
            next.takeTurn();
        }
    }

    /** Takes {@code work} out of the queue if it still waits there (its deadline passed, or its caller cancelled). */
    public synchronized boolean withdraw(LaneWork work) {
        return waiting != null && waiting.remove(work);
    }

    /**
     * {@link #withdraw}, and when {@code work} was still waiting, tells the lanes' listener it left
     * unrun after waiting since {@code enteredNanos} (a reading of {@link #now()}).
     */
    public boolean withdraw(LaneWork work, long enteredNanos) {
        boolean left = withdraw(work);
        if (left && lanes.heard()) {
            lanes.listener.leftUnrun(lanes.now() - enteredNanos);
        }
        return left;
    }

    /** Empties the queue (the server shuts down); the turn in progress runs on. */
    synchronized LaneWork[] drainWaiting() {
        if (waiting == null || waiting.isEmpty()) {
            return new LaneWork[0];
        }
        LaneWork[] all = waiting.toArray(new LaneWork[0]);
        waiting.clear();
        return all;
    }

    synchronized int waitingCount() {
        return waiting == null ? 0 : waiting.size();
    }

    @Override
    public String toString() {
        return "Lane{" + token + "}";
    }
}
