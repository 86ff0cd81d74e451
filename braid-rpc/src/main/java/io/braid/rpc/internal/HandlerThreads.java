package io.braid.rpc.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The server's own executor of blocking handlers: virtual threads that serve call after call while
 * calls keep coming, so that under load a call does not pay a thread start (issue 18).
 *
 * <p>A task is handed to the handler thread that went idle last (it takes the task at once), or,
 * when none is idle, to a new virtual thread: a task never waits for a busy thread, so a handler that
 * blocks holds its own thread only, as with a thread per call. A thread whose task has returned waits
 * for the next one, parked (no timer per wait, no carrier held); a sweep on the scheduler every
 * {@code idle} period ends the threads that stayed idle through a whole period, so a thread ends
 * between one and two periods after its last task (default {@link #DEFAULT_IDLE}): at rest no thread
 * is left, and under load a few threads serve many calls. The period is short on purpose: long
 * enough to span the gap between a caller's answer and its next call (tens of microseconds on
 * loopback, a few milliseconds on a busy machine), too short to hold memory for a crowd of threads
 * after a burst. The sweep runs only while a thread is idle: one scheduled task per period, none at
 * rest.
 *
 * <p>What a task sees of the call before it on the same thread: nothing braid put there. The current
 * call ({@code ServingCall}) is put back as it was after every call; a thread's interrupt status is
 * cleared before each task, so an interrupt meant for an earlier call (or one its handler set and
 * left) never reaches a later one. A handler's own {@code ThreadLocal}s are the handler's business,
 * as on any pooled thread: one that sets a value must remove it before it returns.
 *
 * <p>It keeps no set of its busy threads and names none (a set's entry and a name built per thread
 * cost more than the thread itself), and it does not wait for them: the server waits for its calls
 * through their answers (the shutdown grace), not through this executor. A thread dump shows its
 * threads unnamed, with the braid frames they run (an idle one parked in {@code Worker.awaitTask}).
 *
 * <p>Thread-safe and lock-free: the idle threads are a stack of immutable nodes (one per wait, never
 * reused, so a compare-and-set on the top cannot be fooled by a node that left and came back).
 *
 * <p>After {@link #shutdown()} it refuses new tasks with
 * {@link RejectedExecutionException}; tasks already started run on, and idle threads end at once.
 */
final class HandlerThreads implements Executor {
    /** How often idle threads are swept: a thread ends one to two periods after its last task. */
    static final Duration DEFAULT_IDLE = Duration.ofMillis(5);

    private final ThreadFactory factory = Thread.ofVirtual().factory();
    private final ScheduledExecutorService scheduler;
    private final long idleNanos;
    private final Runnable sweep = this::sweep;
    /** The idle threads, the one that went idle last on top: it is handed the next task. */
    private final AtomicReference<Idle> idleTop = new AtomicReference<>();
    private final AtomicBoolean sweepArmed = new AtomicBoolean();
    /** Sweeps so far (written by the sweep only); a thread idle since an earlier one ends at the next. */
    private volatile long sweeps;
    /** The scheduler refused a sweep: from then on a thread ends when its task returns. */
    private volatile boolean unswept;
    private volatile boolean shutdown;

    /** One wait of an idle thread: made when it goes idle, dropped when it is taken off the stack. */
    private record Idle(Worker worker, long since, Idle below) {
    }

    /**
     * @param idle      the sweep's period: a thread ends one to two periods after its last task; positive
     * @param scheduler runs the sweep (borrowed: never shut down here); once it refuses one, the idle
     *                  threads end at once and every thread ends when its task returns (a thread per
     *                  task, as before issue 18), so none waits for a sweep that will not come
     */
    HandlerThreads(Duration idle, ScheduledExecutorService scheduler) {
        if (idle.isNegative() || idle.isZero()) {
            throw new IllegalArgumentException("idle must be positive, was " + idle);
        }
        this.idleNanos = idle.toNanos();
        this.scheduler = java.util.Objects.requireNonNull(scheduler, "scheduler");
    }

    @Override
    public void execute(Runnable task) {
        if (shutdown) {
            throw new RejectedExecutionException("the server's handler threads are shut down");
        }
        Worker worker = popIdle();
        if (worker != null) {
            worker.hand(task);
        } else {
            factory.newThread(new Worker(task)).start();
        }
    }

    /** Refuses new tasks from now on, and ends the threads waiting for one. Idempotent. */
    void shutdown() {
        shutdown = true;
        endAllIdle();
    }

    /** Threads waiting for a task now (for tests). */
    int idleCount() {
        int count = 0;
        for (Idle at = idleTop.get(); at != null; at = at.below()) {
            count++;
        }
        return count;
    }

    private Worker popIdle() {
        for (;;) {
            Idle top = idleTop.get();
            if (top == null) {
                return null;
            }
            if (idleTop.compareAndSet(top, top.below())) {
                return top.worker();
            }
        }
    }

    private void push(Worker worker, long since) {
        for (;;) {
            Idle top = idleTop.get();
            if (idleTop.compareAndSet(top, new Idle(worker, since, top))) {
                return;
            }
        }
    }

    /** Takes every idle thread off the stack (so each is told once) and ends it. */
    private void endAllIdle() {
        for (Idle at = idleTop.getAndSet(null); at != null; at = at.below()) {
            at.worker().end();
        }
    }

    /** {@code worker}'s task returned: it waits for the next one. False: it ends now. */
    private boolean goIdle(Worker worker) {
        if (shutdown || unswept) {
            return false;
        }
        push(worker, sweeps);
        if (shutdown || unswept) {
            endAllIdle(); // raced with the shutdown (or the refusal) that emptied the stack before this push
        } else if (sweepArmed.compareAndSet(false, true)) {
            armSweep();
        }
        return true;
    }

    private void armSweep() {
        try {
            scheduler.schedule(sweep, idleNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException schedulerGone) {
            // No sweep will come: no thread may wait for one. Tasks are still taken, a thread each.
            unswept = true;
            endAllIdle();
        }
    }

    /** Ends the threads idle since before the last sweep; comes again while any thread is idle. */
    private void sweep() {
        long current = sweeps;
        List<Idle> kept = null;
        for (Idle at = idleTop.getAndSet(null); at != null; at = at.below()) {
            if (at.since() < current) {
                at.worker().end();
            } else {
                if (kept == null) {
                    kept = new ArrayList<>();
                }
                kept.add(at);
            }
        }
        sweeps = current + 1;
        if (kept != null) {
            for (int i = kept.size() - 1; i >= 0; i--) { // bottom first: the last to go idle stays on top
                push(kept.get(i).worker(), kept.get(i).since());
            }
        }
        sweepArmed.set(false);
        if (shutdown || unswept) {
            endAllIdle();
        } else if (idleTop.get() != null && sweepArmed.compareAndSet(false, true)) {
            armSweep();
        }
    }

    /** One handler thread: its first task, then each task handed to it while it waited. */
    private final class Worker implements Runnable {
        private Runnable first;
        private Thread thread;
        /** Handed while it waited; taken by it. */
        private volatile Runnable next;
        /** Told to end while it waited. */
        private volatile boolean ended;

        Worker(Runnable first) {
            this.first = first;
        }

        @Override
        public void run() {
            thread = Thread.currentThread();
            Runnable task = first;
            first = null;
            while (task != null) {
                task.run();
                task = null;
                Thread.interrupted(); // an interrupt the task left (or meant for it) is not the next one's
                if (goIdle(this)) {
                    task = awaitTask();
                }
            }
        }

        /** Parks until a task is handed (answers it) or the thread is told to end (answers null). */
        private Runnable awaitTask() {
            for (;;) {
                Runnable task = next;
                if (task != null) {
                    next = null;
                    Thread.interrupted(); // late, for the task before: no one knows this thread serves the new one
                    return task;
                }
                if (ended) {
                    return null;
                }
                LockSupport.park(this);
                Thread.interrupted(); // a late interrupt would make every park return at once
            }
        }

        /** Called by whoever took it off the idle stack (so once per wait). */
        void hand(Runnable task) {
            next = task;
            LockSupport.unpark(thread);
        }

        /** Called by whoever took it off the idle stack (so once per wait). */
        void end() {
            ended = true;
            LockSupport.unpark(thread);
        }
    }
}
