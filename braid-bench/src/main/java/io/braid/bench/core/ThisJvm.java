package io.braid.bench.core;

import java.lang.management.ManagementFactory;

/**
 * This JVM's CPU time (all threads, from the OS) and the bytes all its threads ever allocated
 * (HotSpot's counter, which keeps counting threads that ended and virtual threads' carriers).
 */
public final class ThisJvm implements Usage.Meter {
    public static final ThisJvm METER = new ThisJvm();

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private ThisJvm() {
    }

    @Override
    public Usage read() {
        return new Usage(os.getProcessCpuTime(), threads.getTotalThreadAllocatedBytes());
    }
}
