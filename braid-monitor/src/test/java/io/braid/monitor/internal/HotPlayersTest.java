package io.braid.monitor.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Ticker;
import io.braid.monitor.TracePlayers;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The hot players under an injected ticker that starts near {@code Long.MAX_VALUE}, so the window
 * arithmetic is tested across the overflow too.
 */
class HotPlayersTest {
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - TimeUnit.SECONDS.toNanos(45));
    private final Ticker ticker = now::get;

    private void advanceSeconds(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void theTopTenByCallsAndByRunTimeInOrder() {
        HotPlayers hot = new HotPlayers(64, ticker, TracePlayers.PLAIN);
        for (int p = 1; p <= 12; p++) {
            for (int call = 0; call < p; call++) {
                hot.record("p" + p, TimeUnit.MILLISECONDS.toNanos(13 - p)); // fewer calls, longer runs
            }
        }
        List<Map<String, Object>> byCalls = hot.byCalls();
        assertThat(byCalls).extracting(m -> m.get("player"))
                .containsExactly("p12", "p11", "p10", "p9", "p8", "p7", "p6", "p5", "p4", "p3");
        assertThat(byCalls.get(0)).containsEntry("calls", 12L).containsEntry("runMillis", 12.0);
        // p7 runs 7 calls of 6 ms and p6 6 of 7 ms, 42 ms each, the most (a tie goes to more calls);
        // p1 and p12 ran 12 ms each, the least.
        List<Map<String, Object>> byRun = hot.byRunTime();
        assertThat(byRun).hasSize(10);
        assertThat(byRun.get(0)).containsEntry("player", "p7").containsEntry("runMillis", 42.0);
        assertThat(byRun.get(1)).containsEntry("player", "p6").containsEntry("calls", 6L);
        assertThat(byRun).extracting(m -> m.get("player")).doesNotContain("p1", "p12");
    }

    @Test
    void theFiguresCoverTheLastThirtyToSixtySecondsAcrossTheTickerOverflow() {
        HotPlayers hot = new HotPlayers(64, ticker, TracePlayers.PLAIN);
        hot.record("early", 1_000_000);
        advanceSeconds(31); // a second window begins; the first still counts
        hot.record("late", 1_000_000);
        assertThat(hot.byCalls()).extracting(m -> m.get("player")).containsExactlyInAnyOrder("early", "late");
        advanceSeconds(30); // past Long.MAX_VALUE now; "early"'s window is over a minute old
        assertThat(hot.byCalls()).extracting(m -> m.get("player")).containsExactly("late");
        advanceSeconds(90); // silence: nothing is hot
        assertThat(hot.byCalls()).isEmpty();
        hot.record("again", 0);
        assertThat(hot.byCalls()).extracting(m -> m.get("player")).containsExactly("again");
    }

    @Test
    void memoryIsBoundedAndAHeavyPlayerIsKeptAmongManyLightOnes() {
        HotPlayers hot = new HotPlayers(16, ticker, TracePlayers.PLAIN);
        for (int i = 0; i < 10_000; i++) {
            hot.record("light-" + i, 0);
            if (i % 10 == 0) {
                hot.record("heavy", 0); // 1,000 of 11,000 calls: more than 1/16 of them
            }
        }
        List<Map<String, Object>> top = hot.byCalls();
        assertThat(top.get(0)).containsEntry("player", "heavy");
        // Space-saving over-counts by at most the count it inherited, never under-counts.
        assertThat((Long) top.get(0).get("calls")).isBetween(1_000L, 1_000L + 11_000L / 16);
        assertThat(top).hasSize(10);
    }

    @Test
    void playersAreShownAsTheSettingSays() {
        TracePlayers hashed = TracePlayers.hashed("sixteen chars ok");
        HotPlayers shown = new HotPlayers(16, ticker, hashed);
        shown.record("player-42", 0);
        assertThat(shown.byCalls()).singleElement()
                .satisfies(m -> assertThat(m.get("player")).isEqualTo(hashed.show("player-42")).isNotEqualTo("player-42"));

        HotPlayers off = new HotPlayers(16, ticker, TracePlayers.OFF);
        off.record("player-42", 0);
        assertThat(off.byCalls()).isEmpty();
    }

    @Test
    void settingsAreChecked() {
        assertThatThrownBy(() -> new HotPlayers(9, ticker, TracePlayers.PLAIN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 10");
        assertThatThrownBy(() -> TracePlayers.hashed("short"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16..512").hasMessageContaining("5 characters");
        assertThatThrownBy(() -> TracePlayers.hashed(null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(TracePlayers.PLAIN.show("")).isNull();
        assertThat(TracePlayers.PLAIN.show("p")).isEqualTo("p");
        assertThat(TracePlayers.OFF.show("p")).isNull();
    }
}
