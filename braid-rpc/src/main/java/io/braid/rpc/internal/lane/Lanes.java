package io.braid.rpc.internal.lane;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Ticker;
import io.braid.api.internal.LaneListener;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lanes of one server, one per token with work: work for one token runs one piece at a time
 * in arrival order, different tokens in parallel. Lanes are made on a token's first work and
 * removed when their last turn ends with nothing waiting, so only tokens with work in progress
 * cost memory (a map entry and a {@link Lane}); none costs a thread.
 *
 * <p>Bounded: at most {@code maxWaiting} pieces wait in one lane behind the one running; one more
 * is refused RESOURCE_EXHAUSTED at once, and no other token notices. After {@link #close} every
 * piece that was waiting is refused UNAVAILABLE and new work is refused UNAVAILABLE; turns in
 * progress run to their end.
 *
 * <p>What happens in the lanes is told to a {@link LaneListener} (depth at entry, wait and run of
 * each turn), timed by the ticker; with {@link LaneListener#NONE} no clock is read.
 *
 * <p>Thread-safe; {@link #enter} runs on event loops and never blocks.
 */
public final class Lanes {
    private final ConcurrentHashMap<String, Lane> byToken = new ConcurrentHashMap<>();
    private final int maxWaiting;
    final LaneListener listener;
    private final Ticker ticker;
    /** False for {@link LaneListener#NONE}: no clock is read and nothing told. */
    private final boolean heard;
    private volatile boolean closed;

    /** @param maxWaiting pieces that may wait in one lane behind the one running, at least 1 */
    public Lanes(int maxWaiting) {
        this(maxWaiting, LaneListener.NONE, Ticker.system());
    }

    /**
     * @param maxWaiting pieces that may wait in one lane behind the one running, at least 1
     * @param listener   hears each entry and turn; {@link LaneListener#NONE}: nothing is timed
     * @param ticker     the clock of wait and run times
     */
    public Lanes(int maxWaiting, LaneListener listener, Ticker ticker) {
        if (maxWaiting < 1) {
            throw new IllegalArgumentException("maxLaneDepth must be at least 1, was " + maxWaiting);
        }
        this.maxWaiting = maxWaiting;
        this.listener = java.util.Objects.requireNonNull(listener, "laneListener");
        this.ticker = java.util.Objects.requireNonNull(ticker, "ticker");
        this.heard = listener != LaneListener.NONE;
    }

    /** The ticker's reading when a listener hears these lanes, else 0 (no clock read). */
    long now() {
        return heard ? ticker.read() : 0L;
    }

    boolean heard() {
        return heard;
    }

    /**
     * Puts {@code work} into {@code token}'s lane (made if it has none). True: the work holds the
     * turn now and the caller starts it; false: it waits, and the lane calls
     * {@link LaneWork#takeTurn()} when its turn comes.
     *
     * @throws BraidException RESOURCE_EXHAUSTED when the lane is full (naming the token and the
     *                        setting), UNAVAILABLE after {@link #close}
     */
    public boolean enter(String token, LaneWork work) {
        for (;;) {
            if (closed) {
                throw new BraidException(Code.UNAVAILABLE, "server is shutting down");
            }
            Lane lane = byToken.get(token);
            if (lane == null) {
                // get, then putIfAbsent: on a free token (the common case) a lock-free insert, without
                // the reservation node computeIfAbsent would make; a race lost costs one unused Lane.
                Lane made = new Lane(this, token);
                lane = byToken.putIfAbsent(token, made);
                if (lane == null) {
                    lane = made;
                }
            }
            work.enteredLane(lane);
            int ahead;
            try {
                ahead = lane.offer(work, maxWaiting);
            } catch (Full full) {
                throw new BraidException(Code.RESOURCE_EXHAUSTED, maxWaiting + " calls already wait in the lane of token "
                        + token + " (maxLaneDepth)");
            }
            if (ahead >= 0) {
                if (closed && ahead > 0 && lane.withdraw(work)) {
                    throw new BraidException(Code.UNAVAILABLE, "server is shutting down");
                }
                if (heard) {
                    listener.entered(ahead);
                }
                return ahead == 0;
            }
            // retired between the lookup and the offer: it is out of the map by now; take a new one
        }
    }

    void retire(Lane lane) {
        byToken.remove(lane.token(), lane);
    }

    /** Tokens with a lane now (work running or waiting). */
    public int size() {
        return byToken.size();
    }

    /** {@code token}'s lane now, or null when it has none. */
    Lane laneOf(String token) {
        return byToken.get(token);
    }

    /** Pieces waiting in {@code token}'s lane now (not counting the one running). */
    public int waiting(String token) {
        Lane lane = byToken.get(token);
        return lane == null ? 0 : lane.waitingCount();
    }

    /**
     * Refuses every waiting piece UNAVAILABLE ({@link LaneWork#refuse}: it never ran, so its caller
     * may safely try again) and all new work from now on. Turns in progress end as they would.
     * Idempotent.
     */
    public void close() {
        closed = true;
        BraidException why = new BraidException(Code.UNAVAILABLE, "server is shutting down: the call waited in "
                + "its token's lane and never started");
        for (Lane lane : byToken.values()) {
            for (LaneWork work : lane.drainWaiting()) {
                work.refuse(why);
            }
        }
    }

    /** Thrown by a full lane's offer; carries no stack (it is control flow). */
    static final class Full extends RuntimeException {
        static final Full INSTANCE = new Full();

        private Full() {
            super("lane full", null, false, false);
        }
    }
}
