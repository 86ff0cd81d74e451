package io.braid.runtime;

import io.braid.api.internal.PlayerReport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The last calls and moves of the players a node saw most recently, for the monitor's "where is a
 * player?". Bounded: {@value #PLAYERS} players (when a new one comes, the least recently used slot
 * is taken, by the clock algorithm: a slot used since the hand last passed gets a second chance),
 * the last {@value #CALLS} calls and the last {@value #MOVES} moves of each.
 *
 * <p>Memory: a slot is allocated the first time it is needed, once (up to {@value #PLAYERS}; then
 * slots are reused, never freed), so a node with few players pays for few: per player
 * {@value #CALLS} calls × (start, duration, method, code: 24 B) and {@value #MOVES} moves × (time,
 * kind, reason, detail: 20 B) plus the slot's arrays and headers, about 0.7 KB; with the token map,
 * at most about 3 MB per node. Recording a call allocates nothing (a map lookup, then four array
 * writes under the slot's lock: the method name and code are the constants' own strings); a player
 * not yet in a slot costs one map entry. {@code PlayerRecordsTest} measures it.
 *
 * <p>Thread-safe. A player's calls and moves are recorded in its lane, so a slot's lock is
 * contended only by a reader or by the eviction of a slot for a new player.
 */
final class PlayerRecords {
    static final int PLAYERS = 4096;
    static final int CALLS = 16;
    static final int MOVES = 8;

    private final LongSupplier clock;
    private final Slot[] slots;
    private final ConcurrentHashMap<String, Slot> byToken;
    /** The clock hand: the next slot to consider taking once all are made. Guarded by {@code this}. */
    private int hand;
    /** Slots made so far (the first {@code made} of {@link #slots}). Guarded by {@code this}. */
    private int made;

    /** @param clock wall-clock milliseconds, for the times shown */
    PlayerRecords(LongSupplier clock) {
        this(clock, PLAYERS);
    }

    PlayerRecords(LongSupplier clock, int players) {
        if (players < 1) {
            throw new IllegalArgumentException("players must be at least 1, was " + players);
        }
        this.clock = clock;
        this.slots = new Slot[players];
        this.byToken = new ConcurrentHashMap<>();
    }

    /** Wall-clock milliseconds now, for a call's start. */
    long now() {
        return clock.getAsLong();
    }

    /**
     * A call of {@code token}'s player ran: began at {@code atMillis} (wall clock), ran {@code nanos},
     * ended with {@code code} ({@code "OK"} or a {@link io.braid.api.Code} name).
     */
    void call(String token, String method, long atMillis, long nanos, String code) {
        Slot slot = slotOf(token);
        synchronized (slot) {
            if (!token.equals(slot.token)) {
                return; // taken for another player meanwhile
            }
            int i = slot.calls++ % CALLS;
            slot.callAt[i] = atMillis;
            slot.callMicros[i] = nanos / 1000;
            slot.callMethod[i] = method;
            slot.callCode[i] = code;
            slot.used = true;
        }
    }

    /** A move of {@code token}'s player through this node (see {@link PlayerReport.Move}). */
    void move(String token, String kind, String reason, String detail) {
        long at = clock.getAsLong();
        Slot slot = slotOf(token);
        synchronized (slot) {
            if (!token.equals(slot.token)) {
                return;
            }
            int i = slot.moves++ % MOVES;
            slot.moveAt[i] = at;
            slot.moveKind[i] = kind;
            slot.moveReason[i] = reason;
            slot.moveDetail[i] = detail;
            slot.used = true;
        }
    }

    /** What is recorded of {@code token}: its calls and moves, oldest first (empty lists when none). */
    Recorded of(String token) {
        Slot slot = byToken.get(token);
        List<PlayerReport.Call> calls = new ArrayList<>();
        List<PlayerReport.Move> moves = new ArrayList<>();
        if (slot != null) {
            synchronized (slot) {
                if (token.equals(slot.token)) {
                    for (int n = Math.max(0, slot.calls - CALLS); n < slot.calls; n++) {
                        int i = n % CALLS;
                        calls.add(new PlayerReport.Call(slot.callAt[i], slot.callMethod[i], slot.callMicros[i],
                                slot.callCode[i]));
                    }
                    for (int n = Math.max(0, slot.moves - MOVES); n < slot.moves; n++) {
                        int i = n % MOVES;
                        moves.add(new PlayerReport.Move(slot.moveAt[i], slot.moveKind[i], slot.moveReason[i],
                                slot.moveDetail[i]));
                    }
                }
            }
        }
        return new Recorded(calls, moves);
    }

    /** A player's recorded calls and moves. */
    record Recorded(List<PlayerReport.Call> calls, List<PlayerReport.Move> moves) {
    }

    /** Players with a slot now (at most {@link #PLAYERS}). */
    int size() {
        return byToken.size();
    }

    private Slot slotOf(String token) {
        Slot slot = byToken.get(token);
        return slot != null ? slot : take(token);
    }

    /** A slot for a player not yet recorded: the clock hand's next slot not used since it last passed. */
    private synchronized Slot take(String token) {
        Slot slot = byToken.get(token);
        if (slot != null) {
            return slot;
        }
        if (made < slots.length) {
            Slot fresh = new Slot();
            fresh.reset(token);
            slots[made++] = fresh;
            byToken.put(token, fresh);
            return fresh;
        }
        while (true) {
            Slot candidate = slots[hand];
            hand = (hand + 1) % slots.length;
            if (candidate.used) {
                candidate.used = false; // a second chance
                continue;
            }
            synchronized (candidate) {
                if (candidate.token != null) {
                    byToken.remove(candidate.token, candidate);
                }
                candidate.reset(token);
            }
            byToken.put(token, candidate);
            return candidate;
        }
    }

    /** One player's rings. Guarded by itself, but for {@code used} (a hint for the clock hand). */
    private static final class Slot {
        String token;
        volatile boolean used;
        int calls;
        final long[] callAt = new long[CALLS];
        final long[] callMicros = new long[CALLS];
        final String[] callMethod = new String[CALLS];
        final String[] callCode = new String[CALLS];
        int moves;
        final long[] moveAt = new long[MOVES];
        final String[] moveKind = new String[MOVES];
        final String[] moveReason = new String[MOVES];
        final String[] moveDetail = new String[MOVES];

        void reset(String owner) {
            token = owner;
            used = true;
            calls = 0;
            moves = 0;
            java.util.Arrays.fill(callMethod, null);
            java.util.Arrays.fill(callCode, null);
            java.util.Arrays.fill(moveKind, null);
            java.util.Arrays.fill(moveReason, null);
            java.util.Arrays.fill(moveDetail, null);
        }
    }
}
