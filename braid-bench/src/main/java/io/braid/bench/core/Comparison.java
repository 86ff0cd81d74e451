package io.braid.bench.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * One cell of the report: a baseline and the subjects compared with it, run interleaved
 * (A B C A B C ...) so that a noisy minute hits all of them alike, each reported as the median of
 * its repeats.
 */
public final class Comparison {
    private final String group;
    private final String cell;
    private final String baseline;
    private final Map<String, Trial> subjects = new LinkedHashMap<>();

    public Comparison(String group, String cell, String baseline, Trial baselineTrial) {
        this.group = group;
        this.cell = cell;
        this.baseline = baseline;
        subjects.put(baseline, baselineTrial);
    }

    public Comparison subject(String name, Trial trial) {
        if (subjects.putIfAbsent(name, trial) != null) {
            throw new IllegalArgumentException("subject " + name + " twice in " + group + " " + cell);
        }
        return this;
    }

    /** Runs every subject {@code window.repeats()} times, interleaved; one row per subject. */
    public List<Row> run(Window window) throws Exception {
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        for (int repeat = 0; repeat < window.repeats(); repeat++) {
            for (Map.Entry<String, Trial> subject : subjects.entrySet()) {
                Sample sample = subject.getValue().run(window);
                System.out.printf(java.util.Locale.ROOT, "  %-8s %-16s %-34s %12.0f ops/s  p50 %8.1f us  p99 %8.1f us%n",
                        group, cell, subject.getKey(), sample.opsPerSecond(), sample.p50Micros(), sample.p99Micros());
                samples.computeIfAbsent(subject.getKey(), name -> new ArrayList<>()).add(sample);
            }
        }
        Sample base = median(samples.get(baseline));
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, List<Sample>> subject : samples.entrySet()) {
            rows.add(new Row(group, cell, subject.getKey(), baseline, median(subject.getValue()), base));
        }
        return rows;
    }

    /** The median of each metric separately. */
    static Sample median(List<Sample> samples) {
        return new Sample(median(samples, Sample::opsPerSecond), median(samples, Sample::p50Micros),
                median(samples, Sample::p99Micros), median(samples, Sample::p999Micros),
                (long) median(samples, s -> s.errors()), median(samples, Sample::clientBytesPerOp),
                median(samples, Sample::serverBytesPerOp), median(samples, Sample::cpuMicrosPerOp));
    }

    private static double median(List<Sample> samples, ToDoubleFunction<Sample> metric) {
        double[] values = samples.stream().mapToDouble(metric).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    @Override
    public String toString() {
        return group + " " + cell + " " + Arrays.toString(subjects.keySet().toArray());
    }
}
