package io.braid.bench.core;

/**
 * One line of the report: a subject's median sample in one cell, next to that cell's baseline
 * measured in the same run.
 *
 * @param group     the report section, e.g. {@code rpc}
 * @param cell      the conditions, e.g. {@code 1x64 64 B}
 * @param subject   what was measured, e.g. {@code braid inline}
 * @param baseline  the subject this row is compared with (itself for the baseline row)
 * @param sample    the median of the interleaved repeats, metric by metric
 * @param baselineSample the baseline's median sample
 */
public record Row(String group, String cell, String subject, String baseline, Sample sample,
        Sample baselineSample) {

    /** Throughput as a multiple of the baseline's. */
    public double throughputRatio() {
        return sample.opsPerSecond() / baselineSample.opsPerSecond();
    }

    /** p99 latency as a multiple of the baseline's (lower is better). */
    public double p99Ratio() {
        return sample.p99Micros() / baselineSample.p99Micros();
    }

    public boolean isBaseline() {
        return subject.equals(baseline);
    }
}
