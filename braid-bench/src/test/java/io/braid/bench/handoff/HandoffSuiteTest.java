package io.braid.bench.handoff;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Sample;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandoffSuiteTest {
    private static final Sample SAMPLE = new Sample(1000, 1000, 5000, 9000, 0, 4000, Double.NaN, 20);

    private static DrainRun.Result result(long drainMillis, Map<String, Long> during, Map<String, Long> after,
                                          long lost) {
        DrainRun.Phase quiet = new DrainRun.Phase(SAMPLE, Map.of(), 3_000_000_000L);
        return new DrainRun.Result(quiet, new DrainRun.Phase(SAMPLE, during, drainMillis * 1_000_000),
                new DrainRun.Phase(SAMPLE, after, 3_000_000_000L), drainMillis * 1_000_000, 10_000, 0, 10_000,
                new ClickLedger.Tally(100_000, lost, lost > 0 ? 1 : 0, 0, 0), 0.25, 0, "1.50", Map.of());
    }

    @Test
    void aDrainWithinFiveSecondsWithNoFailedOrLostClickMeetsEveryGoal() {
        Report report = new Report();
        HandoffSuite.goals(report, HandoffSuite.PLAYERS, "in-memory plane", result(4_990, Map.of(), Map.of(), 0));

        assertThat(report.markdown(""))
                .contains("- **met**: Handoff, in-memory plane: drain time with 10,000 players: 4.99 s (goal ≤ 5 s)")
                .contains("- **met**: Handoff, in-memory plane: clicks failed during and after the drain: 0 (goal 0)")
                .contains("- **met**: Handoff, in-memory plane: acknowledged clicks lost: 0 (goal 0)")
                .doesNotContain("missed").doesNotContain("why:");
    }

    @Test
    void failuresDuringAndAfterTheDrainAreAddedUpAndALongDrainOrALostClickIsMissed() {
        Report report = new Report();
        HandoffSuite.goals(report, HandoffSuite.PLAYERS, "one Redis", result(5_010, Map.of("UNAVAILABLE", 3L), Map.of("DEADLINE_EXCEEDED",
                2L), 7));

        assertThat(report.markdown(""))
                .contains("- **missed**: Handoff, one Redis: drain time with 10,000 players: 5.01 s (goal ≤ 5 s)")
                .contains("- **missed**: Handoff, one Redis: clicks failed during and after the drain: 5 (goal 0)")
                .contains("- **missed**: Handoff, one Redis: acknowledged clicks lost: 7 (goal 0) — "
                        + HandoffSuite.LOST_WHY.text())
                .contains("5.01 s (goal ≤ 5 s) — " + HandoffSuite.DRAIN_WHY.text());
    }

    @Test
    void failuresAreWrittenWithTheirCodes() {
        assertThat(HandoffSuite.failures(Map.of())).isEqualTo("0");
        assertThat(HandoffSuite.failures(new java.util.TreeMap<>(Map.of("UNAVAILABLE", 1_234L, "DEADLINE_EXCEEDED",
                1L)))).isEqualTo("1,235 (DEADLINE_EXCEEDED 1, UNAVAILABLE 1,234)");
    }

    @Test
    void theRowsCompareDuringAndAfterWithBefore() {
        List<Row> rows = HandoffSuite.rows("cell", result(1_000, Map.of(), Map.of(), 0));

        assertThat(rows).extracting(Row::subject)
                .containsExactly(HandoffSuite.BEFORE, HandoffSuite.DURING, HandoffSuite.AFTER);
        assertThat(rows).allMatch(r -> r.baseline().equals(HandoffSuite.BEFORE));
        assertThat(rows.get(0).isBaseline()).isTrue();
    }
}
