package io.braid.examples;

import io.braid.api.PlayerStates.Deactivation;
import io.braid.examples.logic.LogicService;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's rolling update ({@code --rolling-update}): while the bots play, each logic node in
 * turn, oldest first, is replaced. One step: start a fresh logic node (a new id), wait until the
 * gateway and every serving logic node list it ACTIVE (the draining node hands its players only to
 * nodes it sees), then {@code drain()} the old node, which hands each active player over to another
 * ACTIVE node with its snapshot and closes, and wait until it has closed. Steps start at
 * {@code every}, {@code 2 × every}, ... after {@link #start}, one at a time; a step that is late
 * starts when the one before has finished.
 *
 * <p>A drain that has not closed its node within {@link #DRAIN_WITHIN} ends with a close: the
 * players still there are deactivated CLOSING and begin anew elsewhere (their clicks are lost, and
 * the summary's check says so). A step whose replacement is not listed within {@link #LISTED_WITHIN},
 * or whose drain cannot be announced, is reported and ends the rolling update (the old node keeps
 * serving). Progress goes to {@code out}, one line a step.
 *
 * <p>Runs on a thread of its own; {@link #stop()} starts no further step and lets the running one
 * finish; {@link #await} waits for that. Thread-safe.
 */
public final class RollingUpdate {
    /** How long a drain may take before its node is closed with its players still there. */
    static final Duration DRAIN_WITHIN = Duration.ofSeconds(20);
    /** How long a replacement may take to be listed ACTIVE by the gateway and the logic nodes. */
    static final Duration LISTED_WITHIN = Duration.ofSeconds(20);

    /** What the demo lends the rolling update: its logic nodes and a way to start one. */
    interface Cluster {
        /** Starts a fresh logic node with a new id; the demo closes it at the end. */
        LogicService startLogic();

        /** The logic nodes serving now (not replaced), oldest first. */
        List<LogicService> serving();

        /** Whether the gateway and every serving logic node list {@code node} ACTIVE. */
        boolean listed(LogicService node);

        /** {@code node} was drained (or closed) and no longer serves. */
        void retired(LogicService node);
    }

    /**
     * One replacement: {@code drained} gave way to {@code replacement} in {@code took} (from the
     * replacement's start to the old node's close); {@code handedOver} players left it by handoff
     * (its activations ended MOVED), {@code endedWithNode} were still there when it closed
     * (CLOSING: the drain ran out of time); {@code drainedInTime} false when the drain was cut short.
     */
    public record Step(String drained, String replacement, Duration took, long handedOver, long endedWithNode,
                boolean drainedInTime) {
        String describe() {
            return String.format("%s -> %s in %.1f s, %d handed over%s", drained, replacement,
                    took.toMillis() / 1000.0, handedOver, drainedInTime ? ""
                            : ", drain cut short after " + DRAIN_WITHIN.toSeconds() + " s: " + endedWithNode
                            + " ended with the node");
        }
    }

    private final Cluster cluster;
    private final Duration every;
    private final int steps;
    private final PrintStream out;
    private final List<Step> done = new CopyOnWriteArrayList<>();
    private final List<String> problems = new CopyOnWriteArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Thread thread;

    /**
     * @param every the time between two steps
     * @param steps how many steps; 0 = until {@link #stop()}
     */
    RollingUpdate(Cluster cluster, Duration every, int steps, PrintStream out) {
        if (every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("the time between two rolling-update steps must be positive, was "
                    + every);
        }
        this.cluster = cluster;
        this.every = every;
        this.steps = steps;
        this.out = out;
    }

    /** Starts the steps on a thread of their own; the first comes {@code every} from now. */
    void start() {
        long startedAt = System.nanoTime();
        thread = Thread.ofPlatform().daemon().name("demo-rolling-update").start(() -> run(startedAt));
    }

    /** Starts no further step; the running one finishes. */
    void stop() {
        stopped.countDown();
    }

    /** Waits until the running step (if any) has finished after {@link #stop()}; false on timeout. */
    boolean await(Duration timeout) throws InterruptedException {
        Thread running = thread;
        return running == null || running.join(timeout);
    }

    /** The steps finished so far. */
    List<Step> steps() {
        return List.copyOf(done);
    }

    /** Steps that could not be made, in words (the rolling update stopped at the first). */
    List<String> problems() {
        return List.copyOf(problems);
    }

    private void run(long startedAt) {
        try {
            for (int step = 1; steps == 0 || step <= steps; step++) {
                long due = startedAt + every.toNanos() * step;
                long wait = due - System.nanoTime();
                if (stopped.await(Math.max(0, wait), TimeUnit.NANOSECONDS)) {
                    return;
                }
                if (!replaceOldest()) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            problem("the rolling update stopped: " + e);
        }
    }

    /** One step; false when it could not be made. */
    private boolean replaceOldest() throws InterruptedException {
        LogicService old = cluster.serving().getFirst();
        long began = System.nanoTime();
        LogicService fresh = cluster.startLogic();
        long listedBy = began + LISTED_WITHIN.toNanos();
        while (!cluster.listed(fresh)) {
            if (System.nanoTime() - listedBy > 0) {
                problem(fresh.nodeId() + " was not listed ACTIVE within " + LISTED_WITHIN.toSeconds() + " s; "
                        + old.nodeId() + " keeps serving");
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling discovery's local views
        }
        boolean inTime = true;
        try {
            old.drain().get(DRAIN_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            problem("draining " + old.nodeId() + " failed (" + e.getCause() + "); it keeps serving");
            return false;
        } catch (TimeoutException e) {
            inTime = false;
            old.close(); // its players still there end CLOSING
        }
        cluster.retired(old);
        Step step = new Step(old.nodeId(), fresh.nodeId(), Duration.ofNanos(System.nanoTime() - began),
                old.activations().ended(Deactivation.MOVED), old.activations().ended(Deactivation.CLOSING), inTime);
        done.add(step);
        out.println("rolling update: " + step.describe());
        out.flush();
        return true;
    }

    private void problem(String what) {
        problems.add(what);
        out.println("rolling update: " + what);
        out.flush();
    }
}
