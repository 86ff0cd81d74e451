package io.braid.chaos;

import io.braid.api.Elector;
import io.braid.api.Role;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Records when this node acts as its service's leader, by asking {@link Elector#role()} as the
 * runtime's leader chores do, every {@link #PERIOD_MILLIS} ms. A sample counts only when reading
 * the clock, the role and the clock again took under {@link #MAX_SAMPLE_MICROS} µs: a process
 * frozen in the middle of a sample cannot stretch its leadership into the time it was frozen.
 * Reports the interval {@code [first, last]} sample of each epoch every {@link #REPORT_MILLIS} ms
 * while it lasts, and once more when it ends. Also reports every change of {@link Elector#epoch()}
 * (the epoch this node has seen, leader or not), so a checker can tell whether it ever went down.
 */
final class LeadershipSampler implements AutoCloseable {
    static final long PERIOD_MILLIS = 5;
    static final long REPORT_MILLIS = 100;
    static final long MAX_SAMPLE_MICROS = 5_000;

    private final Elector elector;
    private final EventLog log;
    private final Thread thread;
    private volatile boolean running = true;

    LeadershipSampler(Elector elector, EventLog log) {
        this.elector = elector;
        this.log = log;
        this.thread = Thread.ofPlatform().daemon().name("leadership-sampler").start(this::run);
    }

    private void run() {
        long epoch = -1;
        long from = 0;
        long to = 0;
        long reportedAt = 0;
        long seen = -1;
        while (running) {
            long before = EventLog.nowMicros();
            boolean leads = elector.role() == Role.LEADER;
            long seenEpoch = elector.epoch();
            long after = EventLog.nowMicros();
            if (seenEpoch != seen) {
                log.epoch(seenEpoch, after);
                seen = seenEpoch;
            }
            if (after - before <= MAX_SAMPLE_MICROS) {
                if (leads && seenEpoch == epoch) {
                    to = before;
                } else {
                    if (epoch >= 0) {
                        log.leading(epoch, from, to);
                        epoch = -1;
                    }
                    if (leads) {
                        epoch = seenEpoch;
                        from = before;
                        to = before;
                        log.leading(epoch, from, to);
                        reportedAt = after;
                    }
                }
                if (epoch >= 0 && after - reportedAt >= REPORT_MILLIS * 1_000) {
                    log.leading(epoch, from, to);
                    reportedAt = after;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PERIOD_MILLIS));
        }
        if (epoch >= 0) {
            log.leading(epoch, from, to);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(2));
    }
}
