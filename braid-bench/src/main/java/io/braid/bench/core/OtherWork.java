package io.braid.bench.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much of the machine's CPU time went to work other than this run: everything the CPUs did
 * (from /proc/stat) minus what this JVM, its reaped children (server JVMs, redis-server,
 * redis-benchmark) and its live descendants used. A load average cannot tell that apart, since
 * the run itself keeps both CPUs busy. Linux only; elsewhere {@link #read()} gives null.
 */
public final class OtherWork {
    private final long busyTicks;
    private final long totalTicks;
    private final long ourTicks;

    private OtherWork(long busyTicks, long totalTicks, long ourTicks) {
        this.busyTicks = busyTicks;
        this.totalTicks = totalTicks;
        this.ourTicks = ourTicks;
    }

    /** The counters now, or null where /proc cannot be read. */
    public static OtherWork read() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < cpu.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
                total += Long.parseLong(cpu[i]);
            }
            long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
            long ours = ticks(ProcessHandle.current().pid(), true);
            for (ProcessHandle child : ProcessHandle.current().descendants().toList()) {
                ours += ticks(child.pid(), false);
            }
            return new OtherWork(total - idle, total, ours);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The share (0..1) of all CPU time between {@code earlier} and this reading spent on other work. */
    public double shareSince(OtherWork earlier) {
        long total = totalTicks - earlier.totalTicks;
        if (total <= 0) {
            return 0;
        }
        long other = (busyTicks - earlier.busyTicks) - (ourTicks - earlier.ourTicks);
        return Math.max(0, other) / (double) total;
    }

    /** utime + stime (+ the reaped children's, for this process) in clock ticks; 0 if it is gone. */
    private static long ticks(long pid, boolean withChildren) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // fields[0] is field 3, state
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return withChildren ? ticks + Long.parseLong(fields[13]) + Long.parseLong(fields[14]) : ticks;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
