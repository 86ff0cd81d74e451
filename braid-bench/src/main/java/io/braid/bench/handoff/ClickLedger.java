package io.braid.bench.handoff;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The clicks each player was told about (its call succeeded), kept by the load side, and how the
 * counts the players' states hold at the end compare with them. Thread-safe.
 */
final class ClickLedger {
    private final AtomicLongArray acknowledged;

    ClickLedger(int players) {
        if (players < 1) {
            throw new IllegalArgumentException("players must be >= 1, was " + players);
        }
        acknowledged = new AtomicLongArray(players);
    }

    int players() {
        return acknowledged.length();
    }

    /** A click of {@code player} succeeded: its count must include it from now on. */
    void acknowledged(int player) {
        acknowledged.incrementAndGet(player);
    }

    /** Clicks acknowledged so far, over all players. */
    long total() {
        long sum = 0;
        for (int i = 0; i < acknowledged.length(); i++) {
            sum += acknowledged.get(i);
        }
        return sum;
    }

    /**
     * Compares {@code counted} (per player, the count its state holds now, read with no click in
     * flight) with the acknowledged clicks.
     *
     * @throws IllegalArgumentException when {@code counted} is not one count per player
     */
    Tally tally(long[] counted) {
        if (counted.length != acknowledged.length()) {
            throw new IllegalArgumentException("need one count for each of the " + acknowledged.length()
                    + " players, got " + counted.length);
        }
        long total = 0;
        long lost = 0;
        long extra = 0;
        int playersShort = 0;
        int playersOver = 0;
        for (int i = 0; i < counted.length; i++) {
            long told = acknowledged.get(i);
            total += told;
            if (counted[i] < told) {
                lost += told - counted[i];
                playersShort++;
            } else if (counted[i] > told) {
                extra += counted[i] - told;
                playersOver++;
            }
        }
        return new Tally(total, lost, playersShort, extra, playersOver);
    }

    /**
     * How the final counts compare with the acknowledged clicks.
     *
     * @param acknowledged clicks whose call succeeded, all players
     * @param lost         acknowledged clicks missing from the counts (state lost or rolled back)
     * @param playersShort players whose count is below their acknowledged clicks
     * @param extra        clicks counted beyond the acknowledged ones (a call that failed or timed out
     *                     after its click was applied: not lost, but the player was not told)
     * @param playersOver  players whose count is above their acknowledged clicks
     */
    record Tally(long acknowledged, long lost, int playersShort, long extra, int playersOver) {
        /** Every acknowledged click is counted, and nothing else. */
        boolean intact() {
            return lost == 0 && extra == 0;
        }
    }
}
