package io.braid.bench.pekko;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Sample;
import io.braid.bench.core.Window;
import io.braid.bench.handoff.HandoffSuite;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pekko section's goals, read from rows and figures as issue 18 states them. */
class PekkoSuiteTest {
    private static final String CELL = PekkoSuite.cell(64);

    private static Report withRows(double braidOps, double braidP99) {
        Sample pekko = new Sample(10_000, 3_000, 20_000, 40_000, 0, 5_000, 6_000, 200);
        Sample braid = new Sample(braidOps, 300, braidP99, 8_000, 0, 1_000, 1_000, 10);
        return new Report().add(List.of(
                new Row(PekkoSuite.GROUP, CELL, PekkoSuite.PEKKO, PekkoSuite.PEKKO, pekko, pekko),
                new Row(PekkoSuite.GROUP, CELL, PekkoSuite.BRAID, PekkoSuite.PEKKO, braid, pekko)));
    }

    @Test
    void fiveTimesTheThroughputAndAFifthOfTheP99MeetBothGoals() {
        Report report = withRows(50_000, 4_000);
        PekkoSuite.throughputGoals(report, CELL);

        assertThat(report.markdown(""))
                .contains("- **met**: Pekko 1x64 64 B, 1,024 entities: braid token call / Pekko ask throughput: 5.00x "
                        + "(goal ≥ 5.00x)")
                .contains("- **met**: Pekko 1x64 64 B, 1,024 entities: braid token call / Pekko ask p99: 0.20x "
                        + "(goal ≤ 0.20x)")
                .doesNotContain("why:");
    }

    @Test
    void lessThroughputOrALongerTailMissesTheGoal() {
        Report report = withRows(49_000, 4_100);
        PekkoSuite.throughputGoals(report, CELL);

        assertThat(report.markdown(""))
                .contains("- **missed**: Pekko 1x64 64 B, 1,024 entities: braid token call / Pekko ask throughput: "
                        + "4.90x")
                .contains("- **missed**: Pekko 1x64 64 B, 1,024 entities: braid token call / Pekko ask p99: 0.21x "
                        + "(goal ≤ 0.20x) — " + PekkoSuite.SHARED_CORE.text());
    }

    @Test
    void aCellThatDidNotRunIsNotChecked() {
        Report report = new Report();
        PekkoSuite.throughputGoals(report, CELL);

        assertThat(report.markdown("")).contains("- **not checked**: Pekko 1x64 64 B, 1,024 entities: braid token "
                + "call / Pekko ask throughput (the cell did not run)");
    }

    @Test
    void aDrainInAThirdOfPekkosHandOffWithNoFailedCallMeetsBothGoals() {
        Report report = new Report();
        PekkoSuite.handoffGoals(report, PekkoSuite.HANDOFF_ENTITIES, 1_000_000_000L, 3_000_000_000L, 0, 42);

        assertThat(report.markdown(""))
                .contains("- **met**: Pekko hand-off of 10,000 entities: braid drain time / Pekko hand-off time: 0.33x "
                        + "(goal ≤ 0.33x)")
                .contains("- **met**: Pekko hand-off: braid calls failed from the drain on: 0 (goal 0; Pekko's asks "
                        + "that failed or timed out from the leave on: 42)")
                .doesNotContain("why:");
    }

    @Test
    void aSlowerDrainOrOneFailedCallMissesItsGoal() {
        Report report = new Report();
        PekkoSuite.handoffGoals(report, PekkoSuite.HANDOFF_ENTITIES, 1_700_000_000L, 5_000_000_000L, 1, 0);

        assertThat(report.markdown(""))
                .contains("- **missed**: Pekko hand-off of 10,000 entities: braid drain time / Pekko hand-off time: "
                        + "0.34x")
                .contains("- **missed**: Pekko hand-off: braid calls failed from the drain on: 1 (goal 0; Pekko's asks "
                        + "that failed or timed out from the leave on: 0) — " + HandoffSuite.FAILED_WHY.text())
                .contains("0.34x (goal ≤ 0.33x) — " + PekkoSuite.NOT_EQUAL.text());
    }

    @Test
    void theWindowAfterPekkosHandOffOutlastsAnAsksTimeoutSoADroppedAskEndsInIt() {
        Duration full = PekkoSuite.HANDOFF_ASK_TIMEOUT;
        assertThat(full).isEqualTo(Duration.ofSeconds(5));
        assertThat(PekkoHandoffRun.afterWindow(Duration.ofMillis(400), full)).isEqualTo(Duration.ofSeconds(6));
        assertThat(PekkoHandoffRun.afterWindow(Duration.ofSeconds(2), full)).isEqualTo(Duration.ofSeconds(6));
        assertThat(PekkoHandoffRun.afterWindow(Duration.ofSeconds(7), full)).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void theSmokesShorterAskTimeoutShortensTheWindowAfterTheHandOffButItStillOutlastsAnAsk() {
        Duration smoke = PekkoSuite.SMOKE_HANDOFF_ASK_TIMEOUT;
        assertThat(smoke).isEqualTo(Duration.ofSeconds(1));
        assertThat(PekkoHandoffRun.afterWindow(Window.SMOKE.measure(), smoke))
                .isEqualTo(Duration.ofSeconds(2))
                .isGreaterThan(smoke);
    }
}
