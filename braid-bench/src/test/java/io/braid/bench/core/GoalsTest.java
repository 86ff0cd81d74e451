package io.braid.bench.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class GoalsTest {
    private static final Sample BASE = new Sample(100, 10, 20, 30, 0, 100, 100, 5);

    @Test
    void goalLinesSayMetOrMissedWithTheFigureAndTheTarget() {
        Report report = new Report();
        assertThat(Goals.atLeast(report, "throughput / gRPC", 3.2, 3, Goals.Unit.RATIO)).isTrue();
        assertThat(Goals.atMost(report, "allocation per call", 1500, 1024, Goals.Unit.BYTES)).isFalse();

        String markdown = report.markdown("");
        assertThat(markdown).contains("- **met**: throughput / gRPC: 3.20x (goal ≥ 3.00x)")
                .contains("- **missed**: allocation per call: 1500 B (goal ≤ 1024 B)");
    }

    @Test
    void aFigureThatWasNotMeasuredIsNotCountedAsMetOrMissed() {
        Report report = new Report();
        assertThat(Goals.atMost(report, "p50 - netty p50", Double.NaN, 20, Goals.Unit.MICROS)).isFalse();

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
