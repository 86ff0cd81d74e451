package io.braid.chaos;

import io.braid.api.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Publishes numbered messages to the ledger topic, one at a time, and records each one the store
 * acknowledged (its id) in the history: one every {@link #PACE_NANOS} ns, and after every
 * {@link #BURST_EVERY} of those a burst of {@link #BURST} with no pause, which leaves the slow
 * channel a backlog of a second or so to work through while the leaders trim. A publish that fails or is not acknowledged within
 * {@link #ACK_TIMEOUT} is counted as failed: nobody was told it was stored, so nobody may expect it.
 */
final class Publisher implements AutoCloseable {
    static final Duration ACK_TIMEOUT = Duration.ofSeconds(5);
    private static final long PACE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    static final int BURST_EVERY = 100;
    static final int BURST = 50;

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    Publisher(Topic topic, History history) {
        thread = Thread.ofVirtual().name("publisher").start(() -> {
            long seq = 0;
            while (running.get()) {
                String number = Long.toString(++seq);
                long sentAt = EventLog.nowMicros();
                try {
                    String id = topic.publish(("ledger entry " + number).getBytes(StandardCharsets.UTF_8),
                            Map.of(ChaosNames.SEQ_HEADER, number)).get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    history.published.add(new History.Published(number, id, sentAt, EventLog.nowMicros()));
                } catch (Exception failed) {
                    history.publishFailed();
                }
                if (seq % (BURST_EVERY + BURST) < BURST_EVERY) {
                    LockSupport.parkNanos(PACE_NANOS);
                }
            }
        });
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(ACK_TIMEOUT.plusSeconds(2).toMillis());
    }
}
