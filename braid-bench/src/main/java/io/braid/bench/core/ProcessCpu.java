package io.braid.bench.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The CPU time of another process that is not a JVM (a {@code redis-server}), from Linux'
 * {@code /proc/PID/stat}: user + system time of all its threads, in clock ticks (usually 10 ms,
 * so measure windows of seconds). Allocation is {@link Usage#UNKNOWN}.
 */
public final class ProcessCpu implements Usage.Meter {
    private static final long NANOS_PER_TICK = TimeUnit.SECONDS.toNanos(1) / clockTicksPerSecond();

    private final Path stat;

    private ProcessCpu(long pid) {
        this.stat = Path.of("/proc", Long.toString(pid), "stat");
    }

    /** A meter of process {@code pid}; reads {@link Usage#UNKNOWN} where /proc is missing. */
    public static ProcessCpu of(long pid) {
        return new ProcessCpu(pid);
    }

    @Override
    public Usage read() {
        try {
            String line = Files.readString(stat);
            // The command name (field 2) is in parentheses and may hold spaces: count from its end.
            String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
            return new Usage(ticks * NANOS_PER_TICK, Usage.UNKNOWN);
        } catch (IOException | RuntimeException e) {
            return new Usage(Usage.UNKNOWN, Usage.UNKNOWN);
        }
    }

    private static long clockTicksPerSecond() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes()).strip();
            getconf.waitFor(5, TimeUnit.SECONDS);
            return Long.parseLong(out);
        } catch (IOException | RuntimeException e) {
            return 100; // USER_HZ on every Linux build in common use
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
