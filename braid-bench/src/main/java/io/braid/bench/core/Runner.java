package io.braid.bench.core;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives a {@link Load}: closed loop (a fixed number of operations in flight, each starting the
 * next when it ends) or fixed rate (operations started on a schedule, latency counted from the
 * moment each was due, so a stall is charged to every operation it delayed: corrected for
 * coordinated omission).
 */
public final class Runner {
    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);

    private Runner() {
    }

    /** The two sides of a cell whose CPU and allocation are counted. */
    public record Sides(Usage.Meter client, Usage.Meter server) {
        /** Only this JVM, which both drives and serves. */
        public static final Sides IN_PROCESS = new Sides(ThisJvm.METER, Usage.Meter.NONE);

        /** This JVM drives; {@code server} serves. */
        public static Sides against(Usage.Meter server) {
            return new Sides(ThisJvm.METER, server);
        }
    }

    public static Sample closedLoop(Load load, int inFlight, Duration warmup, Duration measure, Sides sides)
            throws InterruptedException {
        if (inFlight < 1) {
            throw new IllegalArgumentException("inFlight must be >= 1, was " + inFlight);
        }
        Recorder recorder = new Recorder(3);
        AtomicLong completed = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger lanesLeft = new AtomicInteger(inFlight);
        CountDownLatch stopped = new CountDownLatch(1);
        for (int i = 0; i < inFlight; i++) {
            new Lane(load, recorder, completed, failed, running, () -> {
                if (lanesLeft.decrementAndGet() == 0) {
                    stopped.countDown();
                }
            }).next();
        }
        TimeUnit.NANOSECONDS.sleep(warmup.toNanos());
        Measured measured = measure(recorder, completed, failed, measure, sides);
        running.set(false);
        if (!stopped.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(lanesLeft.get() + " operations did not end within 30 s of the window");
        }
        return measured.sample();
    }

    /**
     * Starts {@code ratePerSecond} operations a second, at most {@code maxInFlight} at once (past it
     * the schedule waits, and the wait shows in the latency).
     */
    public static Sample fixedRate(Load load, double ratePerSecond, int maxInFlight, Duration warmup,
            Duration measure, Sides sides) throws InterruptedException {
        Recorder recorder = new Recorder(MAX_LATENCY_NANOS, 3);
        AtomicLong completed = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        java.util.concurrent.Semaphore permits = new java.util.concurrent.Semaphore(maxInFlight);
        long interval = (long) (1e9 / ratePerSecond);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread pacer = Thread.ofPlatform().name("bench-pacer").daemon().start(() -> {
            long due = System.nanoTime();
            while (running.get()) {
                long now;
                while ((now = System.nanoTime()) < due) {
                    LockSupport.parkNanos(due - now);
                }
                permits.acquireUninterruptibly();
                long intended = due;
                load.start(error -> {
                    long latency = System.nanoTime() - intended;
                    if (error == null) {
                        recorder.recordValue(Math.min(latency, MAX_LATENCY_NANOS));
                        completed.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                    permits.release();
                });
                due += interval;
            }
        });
        TimeUnit.NANOSECONDS.sleep(warmup.toNanos());
        Measured measured = measure(recorder, completed, failed, measure, sides);
        running.set(false);
        pacer.join(TimeUnit.SECONDS.toMillis(30));
        if (!permits.tryAcquire(maxInFlight, 30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("operations did not end within 30 s of the window");
        }
        return measured.sample();
    }

    private record Measured(long ops, long errors, long nanos, Histogram latency, Usage client, Usage server) {
        Sample sample() {
            double perOp = Math.max(1, ops);
            double clientCpu = client.cpuNanos() == Usage.UNKNOWN ? Double.NaN : client.cpuNanos();
            double serverCpu = server.cpuNanos() == Usage.UNKNOWN ? 0 : server.cpuNanos();
            return new Sample(ops * 1e9 / nanos, micros(latency, 50), micros(latency, 99), micros(latency, 99.9),
                    errors, bytes(client) / perOp, bytes(server) / perOp, (clientCpu + serverCpu) / 1e3 / perOp);
        }

        private static double bytes(Usage usage) {
            return usage.allocatedBytes() == Usage.UNKNOWN ? Double.NaN : usage.allocatedBytes();
        }

        private static double micros(Histogram histogram, double percentile) {
            return histogram.getTotalCount() == 0 ? Double.NaN
                    : histogram.getValueAtPercentile(percentile) / 1e3;
        }
    }

    private static Measured measure(Recorder recorder, AtomicLong completed, AtomicLong failed, Duration window,
            Sides sides) throws InterruptedException {
        recorder.getIntervalHistogram();
        Usage client0 = sides.client().read();
        Usage server0 = sides.server().read();
        long ops0 = completed.get();
        long errors0 = failed.get();
        long start = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(window.toNanos());
        long ops = completed.get() - ops0;
        long errors = failed.get() - errors0;
        long nanos = System.nanoTime() - start;
        Histogram latency = recorder.getIntervalHistogram();
        return new Measured(ops, errors, nanos, latency, sides.client().read().minus(client0),
                sides.server().read().minus(server0));
    }

    /**
     * One operation in flight, forever restarted until the run stops. Loads that complete on the
     * calling thread are looped, not recursed, so the stack stays flat.
     */
    private static final class Lane implements Load.Done {
        private final Load load;
        private final Recorder recorder;
        private final AtomicLong completed;
        private final AtomicLong failed;
        private final AtomicBoolean running;
        private final Runnable onStop;
        private static final int STARTING = 0;
        private static final int IN_FLIGHT = 1;
        private static final int ENDED_WHILE_STARTING = 2;
        private final AtomicInteger state = new AtomicInteger(IN_FLIGHT);
        private long started;

        Lane(Load load, Recorder recorder, AtomicLong completed, AtomicLong failed, AtomicBoolean running,
                Runnable onStop) {
            this.load = load;
            this.recorder = recorder;
            this.completed = completed;
            this.failed = failed;
            this.running = running;
            this.onStop = onStop;
        }

        void next() {
            do {
                if (!running.get()) {
                    onStop.run();
                    return;
                }
                state.set(STARTING);
                started = System.nanoTime();
                load.start(this);
            } while (!state.compareAndSet(STARTING, IN_FLIGHT)); // ended inside start: go round
        }

        @Override
        public void done(Throwable error) {
            if (error == null) {
                recorder.recordValue(Math.min(System.nanoTime() - started, MAX_LATENCY_NANOS));
                completed.incrementAndGet();
            } else {
                failed.incrementAndGet();
            }
            if (!state.compareAndSet(STARTING, ENDED_WHILE_STARTING)) {
                next();
            }
        }
    }
}
