package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.internal.PlayerReport;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@link PlayerRecords}: each player keeps its last {@value PlayerRecords#CALLS} calls and
 * {@value PlayerRecords#MOVES} moves, oldest first; at most {@value PlayerRecords#PLAYERS} players
 * are kept, the least recently used giving way (a second chance for one used since the hand
 * passed); and recording a call allocates nothing, measured with the JVM's per-thread allocation
 * counter.
 */
class PlayerRecordsTest {
    private final AtomicLong clock = new AtomicLong(1_000);

    @Test
    void aPlayerKeepsItsLastCallsAndMovesOldestFirst() {
        PlayerRecords records = new PlayerRecords(clock::get);
        for (int i = 0; i < PlayerRecords.CALLS + 5; i++) {
            records.call("p", i % 2 == 0 ? "click" : "buy", 1_000 + i, (i + 1) * 1_000_000L, i == 20 ? "UNAVAILABLE" : "OK");
        }
        for (int i = 0; i < PlayerRecords.MOVES + 2; i++) {
            clock.set(2_000 + i);
            records.move("p", "ACTIVATED", "FRESH", "move " + i);
        }
        PlayerRecords.Recorded recorded = records.of("p");
        assertThat(recorded.calls()).hasSize(PlayerRecords.CALLS);
        assertThat(recorded.calls().getFirst()).isEqualTo(new PlayerReport.Call(1_005, "buy", 6_000, "OK"));
        assertThat(recorded.calls().getLast()).isEqualTo(new PlayerReport.Call(1_020, "click", 21_000, "UNAVAILABLE"));
        assertThat(recorded.moves()).extracting(PlayerReport.Move::detail)
                .containsExactly("move 2", "move 3", "move 4", "move 5", "move 6", "move 7", "move 8", "move 9");
        assertThat(recorded.moves().getFirst().atMillis()).isEqualTo(2_002);
        assertThat(records.of("nobody").calls()).isEmpty();
    }

    @Test
    void theLeastRecentlyUsedPlayerGivesWayWhenFull() {
        PlayerRecords records = new PlayerRecords(clock::get, 3);
        records.call("a", "click", 1, 1, "OK");
        records.call("b", "click", 1, 1, "OK");
        records.call("c", "click", 1, 1, "OK");
        records.call("d", "click", 1, 1, "OK"); // the hand clears a, b, c, then takes a
        assertThat(records.size()).isEqualTo(3);
        assertThat(records.of("a").calls()).isEmpty();
        records.call("b", "click", 2, 1, "OK"); // b used again: a second chance
        records.call("e", "click", 1, 1, "OK"); // c was not used since: it goes
        assertThat(records.of("b").calls()).hasSize(2);
        assertThat(records.of("c").calls()).isEmpty();
        assertThat(records.of("d").calls()).hasSize(1);
        assertThat(records.of("e").calls()).hasSize(1);
        assertThat(records.size()).isEqualTo(3);
    }

    @Test
    void fullRecordsStayBoundedAtTheirPlayers() {
        PlayerRecords records = new PlayerRecords(clock::get);
        for (int i = 0; i < PlayerRecords.PLAYERS * 3; i++) {
            records.call("player-" + i, "click", i, 1_000, "OK");
        }
        assertThat(records.size()).isEqualTo(PlayerRecords.PLAYERS);
        assertThat(records.of("player-" + (PlayerRecords.PLAYERS * 3 - 1)).calls()).hasSize(1);
        assertThat(records.of("player-0").calls()).isEmpty();
    }

    /** Measured: bytes allocated per recorded call of a player already kept (printed; the bound asserted). */
    @Test
    void recordingACallAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        PlayerRecords records = new PlayerRecords(clock::get);
        String[] tokens = new String[1_000];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = "player-" + i;
            records.call(tokens[i], "click", i, 1_000, "OK");
        }
        for (int round = 0; round < 200; round++) { // warm up: the JIT compiles the path
            for (String token : tokens) {
                records.call(token, "click", round, 1_000, "OK");
            }
        }
        long thread = Thread.currentThread().threadId();
        int calls = 1_000_000;
        long before = threads.getThreadAllocatedBytes(thread);
        for (int i = 0; i < calls; i++) {
            records.call(tokens[i % tokens.length], "click", i, 1_000, "OK");
        }
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        System.out.printf("PlayerRecords: %d calls recorded, %d bytes allocated (%.4f B/call)%n", calls, allocated,
                (double) allocated / calls);
        assertThat((double) allocated / calls).as("bytes allocated per recorded call").isLessThan(0.1);
    }
}
