package io.braid.bench.pubsub;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Sample;
import java.util.List;
import org.junit.jupiter.api.Test;

class PubsubSuiteTest {
    private static Sample sample(double opsPerSecond, double p99Micros) {
        return new Sample(opsPerSecond, 200, p99Micros, 2 * p99Micros, 0, 4_000, 0, 100);
    }

    private static Row row(String cell, String subject, String baseline, Sample sample, Sample baselineSample) {
        return new Row(PubsubSuite.GROUP, cell, subject, baseline, sample, baselineSample);
    }

    /** Issue 18's goals: delivered ≥ 0.95x the hand-written loop, p99 at 10k msg/s at most the loop's. */
    private static String goalsFor(double deliveredOps, double p99AtRate) {
        Sample loop = sample(10_000, 1_000);
        Sample xadd = sample(50_000, 1_000);
        List<Row> publish = List.of(row(PubsubSuite.PUBLISH, PubsubSuite.BRAID_PUBLISH, PubsubSuite.LETTUCE_XADD,
                sample(50_000, 1_000), xadd));
        List<Row> delivered = List.of(
                row(PubsubSuite.DELIVERED, PubsubSuite.BRAID_CHANNEL, PubsubSuite.LETTUCE_LOOP,
                        sample(deliveredOps, 1_000), loop),
                row(PubsubSuite.DELIVERED, PubsubSuite.REDISSON_RELIABLE, PubsubSuite.LETTUCE_LOOP,
                        sample(1_000, 1_000), loop));
        Sample loopAtRate = sample(10_000, 1_000);
        List<Row> fixed = List.of(row(PubsubSuite.FIXED, PubsubSuite.BRAID_CHANNEL, PubsubSuite.LETTUCE_LOOP,
                sample(10_000, p99AtRate), loopAtRate));
        Report report = new Report();
        PubsubSuite.goals(report, publish, delivered, fixed);
        return report.markdown("");
    }

    @Test
    void deliveredAt95PercentOfTheLoopAndTheLoopsP99Meet() {
        assertThat(goalsFor(9_500, 1_000))
                .contains("- **met**: Pub-sub delivered+acked 1x64: braid / hand-written Lettuce loop: 0.95x (goal ≥ 0.95x)")
                .contains("- **met**: Pub-sub 10k msg/s: braid end-to-end p99 / the Lettuce loop's p99: 1.00x (goal ≤ 1.00x)");
    }

    @Test
    void lessThanThatOrASlowerTailMissWithTheirReason() {
        assertThat(goalsFor(9_400, 1_100))
                .contains("- **missed**: Pub-sub delivered+acked 1x64: braid / hand-written Lettuce loop: 0.94x (goal ≥ 0.95x) — "
                        + PubsubSuite.DESIGN_FLOOR.text())
                .contains("- **missed**: Pub-sub 10k msg/s: braid end-to-end p99 / the Lettuce loop's p99: 1.10x (goal ≤ 1.00x) — "
                        + PubsubSuite.P99_WHY.text());
    }
}
