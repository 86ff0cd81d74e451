package io.braid.bench.handoff;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.runtime.Braid;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed loop of clicks from the gateway: a fixed number of calls in flight, each starting the
 * next when it ends, the tokens taken round robin over all players. Every success is written into
 * the {@link ClickLedger}, its latency into an interval histogram; every failure is kept with the
 * time it ended and its code, so a failure is charged to the phase (before, during, after the
 * drain) in which it ended, exactly. Thread-safe.
 */
final class ClickLoop {
    static final String CLICK = "click";
    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** A click whose call failed: when it ended ({@link System#nanoTime()}) and its code. */
    record Failure(long endedNanos, String code) {
    }

    private final Braid gateway;
    private final String service;
    private final String[] tokens;
    private final ClickLedger ledger;
    private final CallOptions options;
    private final Recorder recorder = new Recorder(MAX_LATENCY_NANOS, 3);
    private final AtomicLong completed = new AtomicLong();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    /** The message of the first failure of each code, to show what a failure said. */
    private final java.util.concurrent.ConcurrentHashMap<String, String> firstMessages =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean();
    private CountDownLatch stopped;

    ClickLoop(Braid gateway, String service, String[] tokens, ClickLedger ledger, Duration callTimeout) {
        this.gateway = gateway;
        this.service = service;
        this.tokens = tokens;
        this.ledger = ledger;
        this.options = CallOptions.DEFAULT.withTimeout(callTimeout);
    }

    /** Starts {@code inFlight} calls, each followed by the next until {@link #stop}. */
    void start(int inFlight) {
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
    void stop(Duration wait) throws InterruptedException {
        running.set(false);
        if (!stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(stopped.getCount() + " clicks did not end within " + wait);
        }
    }

    /** Clicks that succeeded so far. */
    long completed() {
        return completed.get();
    }

    /** The latencies of the clicks that succeeded since the last call (the first call: since the start). */
    Histogram interval() {
        return recorder.getIntervalHistogram();
    }

    /** Failures that ended in {@code [fromNanos, toNanos)}, counted by code, codes in order. */
    Map<String, Long> failuresBetween(long fromNanos, long toNanos) {
        Map<String, Long> byCode = new TreeMap<>();
        for (Failure failure : failures) {
            if (failure.endedNanos() - fromNanos >= 0 && failure.endedNanos() - toNanos < 0) {
                byCode.merge(failure.code(), 1L, Long::sum);
            }
        }
        return byCode;
    }

    /** Per code, the message of the first failure with it. */
    Map<String, String> firstMessages() {
        return new TreeMap<>(firstMessages);
    }

    /** Every failure so far. */
    List<Failure> failures() {
        return List.copyOf(failures);
    }

    /**
     * One call in flight, restarted until the loop stops. A call that completes inside
     * {@code invoke} (a refusal the client gives at once) is looped, not recursed, so the stack
     * stays flat.
     */
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
                int player = (int) (nextToken.getAndIncrement() % tokens.length);
                long started = System.nanoTime();
                gateway.invoke(service, CLICK, tokens[player], StringValue.getDefaultInstance(), Int64Value.parser(),
                        options).whenComplete((answer, error) -> ended(player, started, error));
            } while (!state.compareAndSet(STARTING, IN_FLIGHT)); // ended inside invoke: go round
        }

        private void ended(int player, long started, Throwable error) {
            long now = System.nanoTime();
            if (error == null) {
                ledger.acknowledged(player);
                recorder.recordValue(Math.min(now - started, MAX_LATENCY_NANOS));
                completed.incrementAndGet();
            } else {
                BraidException failure = BraidException.from(error);
                firstMessages.putIfAbsent(failure.code().name(), String.valueOf(failure.getMessage()));
                failures.add(new Failure(now, failure.code().name()));
            }
            if (!state.compareAndSet(STARTING, ENDED_WHILE_STARTING)) {
                next();
            }
        }
    }
}
