package io.braid.bench.core;

import io.braid.testkit.RedisProbe;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A redis-server as the serving side of a cell: its CPU time from {@code INFO cpu}
 * ({@code used_cpu_sys + used_cpu_user}, all of its threads, microsecond resolution); its
 * allocation is {@link Usage#UNKNOWN} (not a JVM). Each {@link #read()} also takes
 * {@code INFO commandstats}, so after a measured window (which reads at its start and its end)
 * {@link #lastWindow()} says which commands Redis ran in it. The meter's own {@code INFO} calls are
 * left out. Not thread-safe: one cell at a time; the caller owns and closes the probe.
 */
public final class RedisMeter implements Usage.Meter {
    private final RedisProbe probe;
    private Reading previous;
    private Reading last;

    public RedisMeter(RedisProbe probe) {
        this.probe = Objects.requireNonNull(probe, "probe");
    }

    /** What Redis did between two reads: CPU nanoseconds, and calls per command. */
    public record Activity(long nanos, long cpuNanos, Map<String, Long> calls) {
        /** Every command Redis ran in the window. */
        public long totalCalls() {
            return calls.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private record Reading(long atNanos, long cpuNanos, Map<String, Long> calls) {
    }

    @Override
    public Usage read() {
        long cpu = cpuNanos(probe.info("cpu"));
        Map<String, Long> calls = probe.commandCalls();
        previous = last;
        last = new Reading(System.nanoTime(), cpu, calls);
        return new Usage(cpu, Usage.UNKNOWN);
    }

    /** Redis' activity between the last two reads (the last measured window). */
    public Activity lastWindow() {
        if (previous == null) {
            throw new IllegalStateException("read() has not been called twice yet");
        }
        Map<String, Long> delta = new LinkedHashMap<>();
        for (Map.Entry<String, Long> command : last.calls().entrySet()) {
            long calls = command.getValue() - previous.calls().getOrDefault(command.getKey(), 0L);
            if (calls > 0 && !command.getKey().equals("info")) {
                delta.put(command.getKey(), calls);
            }
        }
        return new Activity(last.atNanos() - previous.atNanos(), last.cpuNanos() - previous.cpuNanos(),
                Collections.unmodifiableMap(delta));
    }

    /** {@code used_cpu_sys + used_cpu_user} of an {@code INFO cpu} reply, in nanoseconds. */
    static long cpuNanos(String info) {
        double seconds = 0;
        int found = 0;
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
                seconds += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
                found++;
            }
        }
        if (found != 2) {
            throw new IllegalStateException("INFO cpu without used_cpu_sys and used_cpu_user: " + info);
        }
        return Math.round(seconds * 1e9);
    }
}
