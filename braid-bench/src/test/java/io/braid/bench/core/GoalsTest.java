package io.braid.bench.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class GoalsTest {
    private static final Sample BASE = new Sample(100, 10, 20, 30, 0, 100, 100, 5);

    private static final Goals.Why WHY = Goals.why("the copies", "rpc");

    @Test
    void goalLinesSayMetOrMissedWithTheFigureAndTheTarget() {
        Report report = new Report();
        assertThat(Goals.atLeast(report, "throughput / gRPC", 3.2, 3, Goals.Unit.RATIO, WHY)).isTrue();
        assertThat(Goals.atMost(report, "allocation per call", 1500, 1024, Goals.Unit.BYTES, WHY)).isFalse();

        String markdown = report.markdown("");
        assertThat(markdown).contains("- **met**: throughput / gRPC: 3.20x (goal ≥ 3.00x)")
                .contains("- **missed**: allocation per call: 1500 B (goal ≤ 1024 B)");
    }

    @Test
    void aMissedGoalEndsWithWhatLimitsItAndWhereTheReadmeSaysMoreAMetGoalDoesNot() {
        Goals.Why why = Goals.why("each blocking call is two thread switches on the one server core.",
                "rpc › The blocking path without a thread start");
        Report report = new Report();
        assertThat(Goals.atLeast(report, "virtual thread / gRPC", 2.18, 3, Goals.Unit.RATIO, why)).isFalse();
        assertThat(Goals.atMost(report, "virtual thread p99 / inline p99", 1.2, 1.5, Goals.Unit.RATIO, why)).isTrue();
        assertThat(Goals.check(report, false, "clicks failed", "3", "0", why)).isFalse();
        assertThat(Goals.check(report, true, "clicks lost", "0", "0", why)).isTrue();

        String markdown = report.markdown("");
        String reason = " — why: each blocking call is two thread switches on the one server core; see "
                + "braid-bench/README.md, rpc › The blocking path without a thread start.";
        assertThat(markdown).contains("- **missed**: virtual thread / gRPC: 2.18x (goal ≥ 3.00x)" + reason + "\n")
                .contains("- **missed**: clicks failed: 3 (goal 0)" + reason + "\n")
                .contains("- **met**: virtual thread p99 / inline p99: 1.20x (goal ≤ 1.50x)\n")
                .contains("- **met**: clicks lost: 0 (goal 0)\n");
        assertThat(markdown.split("why:", -1)).as("one reason per missed goal").hasSize(3);
    }

    @Test
    void aReasonNeedsWhatLimitsAndWhere() {
        assertThatThrownBy(() -> Goals.why(" ", "rpc")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Goals.why("the layout", "")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFigureThatWasNotMeasuredIsNotCountedAsMetOrMissed() {
        Report report = new Report();
        assertThat(Goals.atMost(report, "p50 - netty p50", Double.NaN, 20, Goals.Unit.MICROS, WHY)).isFalse();

        assertThat(report.markdown("")).contains("- **not checked**: p50 - netty p50 (not measured)")
                .doesNotContain("**missed**");
    }

    @Test
    void rowFindsASubjectOfACellOfAGroup() {
        Report report = new Report().add(List.of(new Row("rpc", "1x64 64 B", "netty", "netty", BASE, BASE),
                new Row("rpc", "1x64 64 B", "braid", "netty", BASE, BASE)));

        assertThat(Goals.row(report, "rpc", "1x64 64 B", "braid")).map(Row::subject).contains("braid");
        assertThat(Goals.row(report, "rpc", "1x1 64 B", "braid")).isEmpty();
    }
}
