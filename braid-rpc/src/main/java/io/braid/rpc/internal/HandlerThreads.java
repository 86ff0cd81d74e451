package io.braid.rpc.internal;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The server's own executor of blocking handlers: virtual threads that serve call after call while
 * calls keep coming, so that under load a call does not pay a thread start (issue 18).
 *
 * <p>A task is handed to a handler thread that is idle, waiting for one (it takes the task at once),
 * or, when none is, to a new virtual thread: a task never waits for a busy thread, so a handler that
 * blocks holds its own thread only, as with a thread per call. A thread whose task has returned waits
 * {@link #DEFAULT_IDLE} for the next one and then ends: at rest no thread is left (a burst leaves its
 * threads for at most that long), and under load a few threads serve many calls. The wait is short
 * on purpose: long enough to span the gap between a closed-loop caller's answer and its next call
 * (tens of microseconds on loopback, a millisecond or so on a busy machine), far too short to hold
 * memory for a crowd of threads after a burst.
 *
 * <p>What a task sees of the call before it on the same thread: nothing braid put there. The current
 * call ({@code ServingCall}) is put back as it was after every call; a thread's interrupt status is
 * cleared before each task, so an interrupt meant for an earlier call (or one its handler set and
 * left) never reaches a later one. A handler's own {@code ThreadLocal}s are the handler's business,
 * as on any pooled thread: one that sets a value must remove it before it returns.
 *
 * <p>It keeps no set of its threads and names none (a set's entry and a name built per thread cost
 * more than the thread itself), and it does not wait for them: the server waits for its calls
 * through their answers (the shutdown grace), not through this executor. A thread dump shows its
 * threads unnamed, with the braid frames they run.
 *
 * <p>Thread-safe. After {@link #shutdown()} it refuses new tasks with
 * {@link RejectedExecutionException}; tasks already started run on, and idle threads end at once.
 */
final class HandlerThreads implements Executor {
    /** How long a handler thread with nothing to do waits for the next task before it ends. */
    static final Duration DEFAULT_IDLE = Duration.ofMillis(2);

    /** Handed to an idle thread to make it end (at shutdown). */
    private static final Runnable END = () -> { };

    private final ThreadFactory factory = Thread.ofVirtual().factory();
    /** Only ever holds threads waiting for a task: a task is transferred to one, never queued. */
    private final LinkedTransferQueue<Runnable> idle = new LinkedTransferQueue<>();
    private final long idleNanos;
    private volatile boolean shutdown;

    HandlerThreads() {
        this(DEFAULT_IDLE);
    }

    /** @param idle how long a thread with nothing to do waits for a task before it ends; zero: it ends at once */
    HandlerThreads(Duration idle) {
        if (idle.isNegative()) {
            throw new IllegalArgumentException("idle must not be negative, was " + idle);
        }
        this.idleNanos = idle.toNanos();
    }

    @Override
    public void execute(Runnable task) {
        if (shutdown) {
            throw new RejectedExecutionException("the server's handler threads are shut down");
        }
        if (!idle.tryTransfer(task)) {
            factory.newThread(new Worker(task)).start();
        }
    }

    /** Refuses new tasks from now on, and ends the threads waiting for one. Idempotent. */
    void shutdown() {
        shutdown = true;
        while (idle.tryTransfer(END)) {
            // one idle thread told to end per transfer
        }
    }

    /** Threads waiting for a task now (for tests). */
    int idleCount() {
        return idle.getWaitingConsumerCount();
    }

    /** One handler thread: its first task, then each task handed to it while it waited. */
    private final class Worker implements Runnable {
        private Runnable first;

        Worker(Runnable first) {
            this.first = first;
        }

        @Override
        public void run() {
            Runnable task = first;
            first = null;
            while (task != END) {
                task.run();
                task = null;
                if (shutdown || idleNanos == 0) {
                    return;
                }
                Thread.interrupted(); // an interrupt the task left (or meant for it) is not the next one's
                try {
                    task = idle.poll(idleNanos, TimeUnit.NANOSECONDS);
                } catch (InterruptedException interruptedWhileIdle) {
                    return; // late, for the task before; nothing was handed over (a handed task is taken)
                }
                if (task == null) {
                    return;
                }
                Thread.interrupted(); // late too: no one knows this thread serves the new task yet
            }
        }
    }
}
