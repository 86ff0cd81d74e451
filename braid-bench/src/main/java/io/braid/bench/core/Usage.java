package io.braid.bench.core;

/**
 * CPU time and heap allocation of one side of a cell (this JVM, a server JVM, a redis-server),
 * read at the start and the end of the measured window.
 */
public record Usage(long cpuNanos, long allocatedBytes) {
    /** Unknown, e.g. allocation of a process that is not a JVM. */
    public static final long UNKNOWN = -1;

    public Usage minus(Usage earlier) {
        return new Usage(delta(cpuNanos, earlier.cpuNanos), delta(allocatedBytes, earlier.allocatedBytes));
    }

    private static long delta(long now, long before) {
        return now == UNKNOWN || before == UNKNOWN ? UNKNOWN : now - before;
    }

    /** Reads one side's usage counters; each side of a cell supplies one. */
    @FunctionalInterface
    public interface Meter {
        Usage read();

        /** A side whose usage is not measured. */
        Meter NONE = () -> new Usage(UNKNOWN, UNKNOWN);
    }
}
