package io.braid.bench.core;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed loop over {@code keys} keys (players, entities), round robin: a fixed number of calls
 * in flight, each starting the next when it ends. Every success's latency goes into an interval
 * histogram and is handed to {@link Success}; every failure is kept with the time it ended and its
 * kind, so a failure is charged exactly to the phase (before, during, after a drain) in which it
 * ended. A call that completes inside {@code call} (a refusal given at once) is looped, not
 * recursed, so the stack stays flat. Thread-safe.
 *
 * @param <T> what a call answers
 */
public final class ClosedLoop<T> {
    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** What to do with a success: {@code key}'s call answered {@code value} at {@code endedNanos}. */
    @FunctionalInterface
    public interface Success<T> {
        void ended(int key, T value, long endedNanos);
    }

    /** A failed call, as a row shows it: its kind (a code, an exception's class) and its message. */
    public record Kind(String kind, String message) {
    }

    /** A call that failed: when it ended ({@link System#nanoTime()}) and its kind. */
    public record Failure(long endedNanos, String kind) {
    }

    private final String noun;
    private final int keys;
    private final IntFunction<? extends CompletionStage<? extends T>> call;
    private final Success<? super T> success;
    private final Function<Throwable, Kind> kindOf;
    private final Recorder recorder = new Recorder(MAX_LATENCY_NANOS, 3);
    private final AtomicLong completed = new AtomicLong();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final Map<String, String> firstMessages = new ConcurrentHashMap<>();
    private final AtomicLong nextKey = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile CountDownLatch stopped;

    /**
     * @param noun   what one call is, plural, for messages ("clicks", "asks")
     * @param call   starts the call of a key, 0 .. keys - 1
     * @param kindOf names a failure (the future's cause, unwrapped from CompletionException)
     */
    public ClosedLoop(String noun, int keys, IntFunction<? extends CompletionStage<? extends T>> call,
                      Success<? super T> success, Function<Throwable, Kind> kindOf) {
        if (keys < 1) {
            throw new IllegalArgumentException("keys must be at least 1, was " + keys);
        }
        this.noun = noun;
        this.keys = keys;
        this.call = call;
        this.success = success;
        this.kindOf = kindOf;
    }

    /** Starts {@code inFlight} calls, each followed by the next until {@link #stop}. */
    public void start(int inFlight) {
        if (!running.compareAndSet(false, true)) {
            throw new IllegalStateException("the loop is running already");
        }
        stopped = new CountDownLatch(inFlight);
        for (int i = 0; i < inFlight; i++) {
            new Chain().next();
        }
    }

    /**
     * Lets every call in flight end and starts no more.
     *
     * @throws IllegalStateException when calls are still in flight after {@code wait}
     */
    public void stop(Duration wait) throws InterruptedException {
        running.set(false);
        if (!stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(stopped.getCount() + " " + noun + " did not end within " + wait);
        }
    }

    /** Calls that succeeded so far. */
    public long completed() {
        return completed.get();
    }

    /** The latencies of the calls that succeeded since the last call (the first call: since the start). */
    public Histogram interval() {
        return recorder.getIntervalHistogram();
    }

    /** Failures that ended in {@code [fromNanos, toNanos)}, counted by kind, kinds in order. */
    public Map<String, Long> failuresBetween(long fromNanos, long toNanos) {
        Map<String, Long> byKind = new TreeMap<>();
        for (Failure failure : failures) {
            if (failure.endedNanos() - fromNanos >= 0 && failure.endedNanos() - toNanos < 0) {
                byKind.merge(failure.kind(), 1L, Long::sum);
            }
        }
        return byKind;
    }

    /** Every failure so far. */
    public List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** Per kind, the message of the first failure of that kind. */
    public Map<String, String> firstMessages() {
        return new TreeMap<>(firstMessages);
    }

    /** One call in flight, restarted until the loop stops. */
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
                int key = (int) (nextKey.getAndIncrement() % keys);
                long started = System.nanoTime();
                call.apply(key).whenComplete((value, error) -> ended(key, started, value, error));
            } while (!state.compareAndSet(STARTING, IN_FLIGHT)); // ended inside call: go round
        }

        private void ended(int key, long started, T value, Throwable error) {
            long now = System.nanoTime();
            if (error == null) {
                recorder.recordValue(Math.min(now - started, MAX_LATENCY_NANOS));
                completed.incrementAndGet();
                success.ended(key, value, now);
            } else {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                        : error;
                Kind kind = kindOf.apply(cause);
                firstMessages.putIfAbsent(kind.kind(), String.valueOf(kind.message()));
                failures.add(new Failure(now, kind.kind()));
            }
            if (!state.compareAndSet(STARTING, ENDED_WHILE_STARTING)) {
                next();
            }
        }
    }
}
