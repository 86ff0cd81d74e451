package io.braid.bench.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Sample;
import io.braid.bench.core.Window;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway section's sizes and goals, read from rows and figures as issues 17 and 18 state them. */
class GatewaySuiteTest {
    private static final String GOAL = "Gateway 1x64 64 B: ";

    private static Report withRoundTrip(double throughP50, double throughP99) {
        Sample direct = new Sample(20_000, 1_000, 4_000, 8_000, 0, 1_000, 1_000, 50);
        Sample through = new Sample(15_000, throughP50, throughP99, 9_000, 0, 2_000, 2_000, 80);
        return new Report().add(List.of(
                new Row(GatewaySuite.GROUP, GatewaySuite.roundTripCell(), GatewaySuite.DIRECT, GatewaySuite.DIRECT,
                        direct, direct),
                new Row(GatewaySuite.GROUP, GatewaySuite.roundTripCell(), GatewaySuite.THROUGH, GatewaySuite.DIRECT,
                        through, direct)));
    }

    @Test
    void tenThousandSessionsAtQuickAndFullAThousandOfThemResumingTwoHundredInTheSmoke() {
        assertThat(GatewaySuite.sessions(Window.QUICK)).isEqualTo(10_000);
        assertThat(GatewaySuite.sessions(Window.FULL)).isEqualTo(10_000);
        assertThat(GatewaySuite.sessions(Window.SMOKE)).isEqualTo(200);
        assertThat(GatewaySuite.resumeSessions(Window.QUICK)).isEqualTo(1_000);
        assertThat(GatewaySuite.resumeSessions(Window.SMOKE)).isEqualTo(200);
        assertThat(new GatewaySuite().optIn()).as("in a plain ./bench").isFalse();
    }

    @Test
    void tenThousandSessionsAtTenKibEachAndLatencyWithin1point3xMeetEveryGoal() {
        Report report = withRoundTrip(1_300, 5_200);
        GatewaySuite.goals(report, 10_000, 10_000, 10_240);

        assertThat(report.markdown(""))
                .contains("- **met**: Gateway: sessions held on one gateway: 10,000 (goal ≥ 10,000)")
                .contains("- **met**: Gateway: heap per session on the gateway's JVM: 10240 B (goal ≤ 10240 B)")
                .contains("- **met**: " + GOAL + "p50 through the gateway / direct call: 1.30x (goal ≤ 1.30x)")
                .contains("- **met**: " + GOAL + "p99 through the gateway / direct call: 1.30x (goal ≤ 1.30x)")
                .doesNotContain("why:");
    }

    @Test
    void fewerSessionsMoreHeapOrALongerCallMissTheGoals() {
        Report report = withRoundTrip(1_400, 5_300);
        GatewaySuite.goals(report, 10_000, 9_999, 10_241);

        assertThat(report.markdown(""))
                .contains("- **missed**: Gateway: sessions held on one gateway: 9,999 (goal ≥ 10,000)")
                .contains("- **missed**: Gateway: heap per session on the gateway's JVM: 10241 B")
                .contains("- **missed**: " + GOAL + "p50 through the gateway / direct call: 1.40x")
                .contains("- **missed**: " + GOAL + "p99 through the gateway / direct call: 1.33x (goal ≤ 1.30x) — "
                        + GatewaySuite.LAYOUT_WHY.text())
                .contains("(goal ≥ 10,000) — " + GatewaySuite.SESSIONS_WHY.text());
    }

    @Test
    void aRoundTripCellThatDidNotRunIsNotChecked() {
        Report report = new Report();
        GatewaySuite.goals(report, 200, 200, 5_000);

        assertThat(report.markdown(""))
                .contains("- **not checked**: " + GOAL + "p50 through the gateway / direct call (the cell did not run)")
                .contains("- **not checked**: " + GOAL
                        + "p99 through the gateway / direct call (the cell did not run)");
    }

    @Test
    void aRowMeasuredAloneIsItsOwnBaseline() {
        Sample sample = new Sample(100, 1, 2, 3, 0, 4, 5, 6);
        Row row = GatewaySuite.alone("cell", "subject", sample);

        assertThat(row.isBaseline()).isTrue();
        assertThat(row.group()).isEqualTo(GatewaySuite.GROUP);
        assertThat(row.throughputRatio()).isEqualTo(1.0);
    }
}
