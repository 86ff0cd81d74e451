package io.braid.bench.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What each operation of a subject cost Redis: CPU microseconds and commands (by name), from a
 * {@link RedisMeter}'s window next to the {@link Sample} measured in the same window. Each subject's
 * figures are the medians of its repeats, as in {@link Comparison}; {@link #markdown()} is a table
 * for {@link Report#note}.
 */
public final class RedisCosts {
    private final Map<String, List<PerOp>> bySubject = new LinkedHashMap<>();

    private record PerOp(double cpuMicros, double commands, Map<String, Double> byCommand) {
    }

    /** Adds one measured window of {@code subject} in {@code cell}. */
    public synchronized void record(String cell, String subject, RedisMeter.Activity redis, Sample sample) {
        double ops = sample.opsPerSecond() * redis.nanos() / 1e9;
        if (ops < 1) {
            return;
        }
        Map<String, Double> byCommand = new TreeMap<>();
        redis.calls().forEach((command, calls) -> byCommand.put(command, calls / ops));
        bySubject.computeIfAbsent(cell + '\u0000' + subject, k -> new ArrayList<>())
                .add(new PerOp(redis.cpuNanos() / 1e3 / ops, redis.totalCalls() / ops, byCommand));
    }

    /** Median Redis CPU microseconds per operation of a subject, NaN if it was not recorded. */
    public synchronized double cpuMicrosPerOp(String cell, String subject) {
        List<PerOp> runs = bySubject.get(cell + '\u0000' + subject);
        return runs == null ? Double.NaN : median(runs.stream().map(PerOp::cpuMicros).toList());
    }

    /** Median Redis commands per operation of a subject, NaN if it was not recorded. */
    public synchronized double commandsPerOp(String cell, String subject) {
        List<PerOp> runs = bySubject.get(cell + '\u0000' + subject);
        return runs == null ? Double.NaN : median(runs.stream().map(PerOp::commands).toList());
    }

    /**
     * One row per subject: Redis CPU µs per operation, commands per operation, and the commands
     * that make up at least 0.01 per operation.
     */
    public synchronized String markdown() {
        StringBuilder out = new StringBuilder(
                "| cell | subject | Redis CPU µs/op | Redis commands/op | commands per op |\n|---|---|---:|---:|---|\n");
        for (Map.Entry<String, List<PerOp>> subject : bySubject.entrySet()) {
            String[] key = subject.getKey().split("\u0000", 2);
            List<PerOp> runs = subject.getValue();
            Map<String, Double> byCommand = new TreeMap<>();
            runs.stream().flatMap(run -> run.byCommand().keySet().stream()).distinct().forEach(command ->
                    byCommand.put(command, median(runs.stream().map(run -> run.byCommand().getOrDefault(command, 0.0))
                            .toList())));
            String commands = byCommand.entrySet().stream().filter(e -> e.getValue() >= 0.01)
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", "));
            out.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.2f | %s |%n", key[0], key[1],
                    median(runs.stream().map(PerOp::cpuMicros).toList()),
                    median(runs.stream().map(PerOp::commands).toList()), commands));
        }
        return out.toString();
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
