package io.braid.bench.pekko;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed loop of Pekko asks over every entity, round robin (the twin of the handoff section's
 * click loop): a fixed number in flight, each starting the next when it ends. Every success's
 * latency goes into an interval histogram; every failure is kept with the time it ended and its
 * kind (the exception's class: {@code TimeoutException} for an ask that timed out); for each
 * entity, the first time it answered from the node called {@code watchedNode}. Thread-safe.
 */
final class AskLoop {
    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** An ask that failed: when it ended ({@link System#nanoTime()}) and the exception's class. */
    record Failure(long endedNanos, String kind) {
    }

    private final PekkoAskLoad asks;
    private final String watchedNode;
    private final Recorder recorder = new Recorder(MAX_LATENCY_NANOS, 3);
    private final AtomicLong completed = new AtomicLong();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final Map<String, String> firstMessages = new ConcurrentHashMap<>();
    private final AtomicLongArray firstFromWatched;
    private final AtomicLong nextEntity = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean();
    private CountDownLatch stopped;

    AskLoop(PekkoAskLoad asks, String watchedNode) {
        this.asks = asks;
        this.watchedNode = watchedNode;
        this.firstFromWatched = new AtomicLongArray(asks.entityCount());
    }

    void start(int inFlight) {
        if (!running.compareAndSet(false, true)) {
            throw new IllegalStateException("the loop is running already");
        }
        stopped = new CountDownLatch(inFlight);
        for (int i = 0; i < inFlight; i++) {
            new Chain().next();
        }
    }

    /** Lets every ask in flight end and starts no more; throws when some are still out after {@code wait}. */
    void stop(Duration wait) throws InterruptedException {
        running.set(false);
        if (!stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(stopped.getCount() + " asks did not end within " + wait);
        }
    }

    long completed() {
        return completed.get();
    }

    /** The latencies of the asks that succeeded since the last call. */
    Histogram interval() {
        return recorder.getIntervalHistogram();
    }

    /** Failures that ended in {@code [fromNanos, toNanos)}, counted by kind. */
    Map<String, Long> failuresBetween(long fromNanos, long toNanos) {
        Map<String, Long> byKind = new TreeMap<>();
        for (Failure failure : failures) {
            if (failure.endedNanos() - fromNanos >= 0 && failure.endedNanos() - toNanos < 0) {
                byKind.merge(failure.kind(), 1L, Long::sum);
            }
        }
        return byKind;
    }

    int failedInAll() {
        return failures.size();
    }

    /** Per kind, the message of the first failure of that kind. */
    Map<String, String> firstMessages() {
        return new TreeMap<>(firstMessages);
    }

    /** Entities that have answered from the watched node. */
    int answeredFromWatched() {
        int answered = 0;
        for (int i = 0; i < firstFromWatched.length(); i++) {
            if (firstFromWatched.get(i) != 0) {
                answered++;
            }
        }
        return answered;
    }

    /** When the last entity first answered from the watched node; 0 while some never did. */
    long everyAnsweredFromWatchedAt() {
        long last = Long.MIN_VALUE;
        for (int i = 0; i < firstFromWatched.length(); i++) {
            long at = firstFromWatched.get(i);
            if (at == 0) {
                return 0;
            }
            last = Math.max(last, at);
        }
        return last;
    }

    /** One ask in flight, restarted until the loop stops; an ask ending inside start is looped, not recursed. */
    private final class Chain {
        private static final int STARTING = 0;
        private static final int IN_FLIGHT = 1;
        private static final int ENDED_WHILE_STARTING = 2;
        private final AtomicInteger state = new AtomicInteger(IN_FLIGHT);

        void next() {
            do {
                if (!running.get()) {
                    stopped.countDown();
                    return;
                }
                state.set(STARTING);
                int entity = (int) (nextEntity.getAndIncrement() % asks.entityCount());
                long started = System.nanoTime();
                asks.increment(entity).whenComplete((value, error) -> ended(entity, started, value, error));
            } while (!state.compareAndSet(STARTING, IN_FLIGHT));
        }

        private void ended(int entity, long started, PekkoCounter.Value value, Throwable error) {
            long now = System.nanoTime();
            if (error == null) {
                recorder.recordValue(Math.min(now - started, MAX_LATENCY_NANOS));
                completed.incrementAndGet();
                if (value.node().equals(watchedNode) && firstFromWatched.get(entity) == 0) {
                    firstFromWatched.compareAndSet(entity, 0, now == 0 ? 1 : now);
                }
            } else {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                        : error;
                String kind = cause.getClass().getSimpleName();
                firstMessages.putIfAbsent(kind, String.valueOf(cause.getMessage()));
                failures.add(new Failure(now, kind));
            }
            if (!state.compareAndSet(STARTING, ENDED_WHILE_STARTING)) {
                next();
            }
        }
    }
}
