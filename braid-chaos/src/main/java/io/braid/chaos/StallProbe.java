package io.braid.chaos;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures when this JVM could not run: a thread that asks to wake every {@link #PERIOD_MILLIS}
 * ms and records each wake-up later than {@link #THRESHOLD_MILLIS} ms past its time (CPU
 * starvation on a loaded machine, a GC pause, a safepoint). The bots time their calls in this
 * JVM, so a call that ends late during such a stall was late because its timekeeper could not
 * run, not because the cluster hung it.
 */
final class StallProbe implements AutoCloseable {
    static final long PERIOD_MILLIS = 10;
    static final long THRESHOLD_MILLIS = 50;

    private final Thread thread;
    private volatile boolean running = true;

    StallProbe(History history) {
        thread = Thread.ofPlatform().daemon().priority(Thread.MAX_PRIORITY).name("stall-probe").start(() -> {
            long period = TimeUnit.MILLISECONDS.toNanos(PERIOD_MILLIS);
            long threshold = TimeUnit.MILLISECONDS.toMicros(THRESHOLD_MILLIS);
            while (running) {
                long before = EventLog.nowMicros();
                LockSupport.parkNanos(period);
                long after = EventLog.nowMicros();
                long late = after - before - period / 1_000;
                if (late > threshold) {
                    history.stalls.add(new History.Stall(before + period / 1_000, after));
                }
            }
        });
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(1_000);
    }
}
