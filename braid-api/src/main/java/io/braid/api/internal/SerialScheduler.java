package io.braid.api.internal;

import java.time.Duration;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One loop's tasks, run one at a time and in the order given, on the threads of a
 * {@link ScheduledExecutorService} that may be shared with other loops. A component whose state is
 * touched by its loop only keeps that rule whether it runs on a thread of its own or on a node's
 * shared scheduler: tasks of one {@code SerialScheduler} never overlap, and each sees what the one
 * before it wrote.
 *
 * <p>Ownership: {@link #owning} makes a private one-thread scheduler that {@link #close()} shuts
 * down; {@link #borrowing} runs on the caller's scheduler, which {@link #close()} leaves running
 * (its owner closes it). Either way close stops this loop: queued and timed tasks are dropped, later
 * ones are refused with {@link RejectedExecutionException}, and close waits (bounded) for a task
 * still running unless it is called from the loop itself. A task that throws is reported to the
 * thread's uncaught-exception handler and the loop goes on; a repeating task keeps repeating.
 * Thread-safe. Internal: may change without notice.
 */
public final class SerialScheduler implements Executor, AutoCloseable {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final ScheduledExecutorService scheduler;
    private final boolean owned;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final Set<Future<?>> timers = ConcurrentHashMap.newKeySet();
    private final Object idle = new Object();
    private volatile Thread running;
    private volatile boolean closed;
    private final AtomicBoolean closing = new AtomicBoolean();

    private SerialScheduler(ScheduledExecutorService scheduler, boolean owned) {
        this.scheduler = scheduler;
        this.owned = owned;
    }

    /** A loop on a one-thread scheduler of its own, made by {@code threads}; closed with the loop. */
    public static SerialScheduler owning(ThreadFactory threads) {
        ScheduledThreadPoolExecutor own = new ScheduledThreadPoolExecutor(1, threads);
        own.setRemoveOnCancelPolicy(true);
        return new SerialScheduler(own, true);
    }

    /** A loop on {@code shared}, which its owner closes; this loop's close leaves it running. */
    public static SerialScheduler borrowing(ScheduledExecutorService shared) {
        if (shared == null) {
            throw new IllegalArgumentException("scheduler must not be null");
        }
        return new SerialScheduler(shared, false);
    }

    /**
     * A loop on {@code borrowed} when a builder was given one, else on a thread of its own made
     * by {@code ownThread}: the choice every builder that takes a scheduler makes.
     */
    public static SerialScheduler borrowingOrOwning(ScheduledExecutorService borrowed, ThreadFactory ownThread) {
        return borrowed != null ? borrowing(borrowed) : owning(ownThread);
    }

    /** Whether the calling thread is running one of this loop's tasks now. */
    public boolean inLoop() {
        return running == Thread.currentThread();
    }

    /** Runs {@code task} after the tasks given before it. */
    @Override
    public void execute(Runnable task) {
        if (closed) {
            throw new RejectedExecutionException("closed");
        }
        tasks.add(task);
        startDraining();
    }

    /** Runs {@code task} on this loop once {@code delay} has passed (on the scheduler's clock). */
    public Future<?> schedule(Runnable task, long delay, TimeUnit unit) {
        if (closed) {
            throw new RejectedExecutionException("closed");
        }
        timers.removeIf(Future::isDone); // keeps the set to the timers still waiting
        Future<?> timer = scheduler.schedule(() -> executeQuietly(task), delay, unit);
        timers.add(timer);
        if (closed) {
            timer.cancel(false);
        }
        return timer;
    }

    /**
     * Runs {@code task} on this loop after {@code initialDelay}, then again {@code delay} after
     * each run ends, until this loop closes.
     */
    public void scheduleWithFixedDelay(Runnable task, long initialDelay, long delay, TimeUnit unit) {
        schedule(new Runnable() {
            @Override
            public void run() {
                try {
                    task.run();
                } finally {
                    if (!closed) {
                        try {
                            schedule(this, delay, unit);
                        } catch (RejectedExecutionException closing) {
                            // closed meanwhile, or the borrowed scheduler was shut down by its owner
                        }
                    }
                }
            }
        }, initialDelay, unit);
    }

    private void executeQuietly(Runnable task) {
        try {
            execute(task);
        } catch (RejectedExecutionException closing) {
            // closed: the task is dropped
        }
    }

    private void startDraining() {
        if (!tasks.isEmpty() && draining.compareAndSet(false, true)) {
            try {
                scheduler.execute(this::drain);
            } catch (RejectedExecutionException shutDown) {
                draining.set(false);
                tasks.clear();
                throw shutDown;
            }
        }
    }

    private void drain() {
        running = Thread.currentThread();
        try {
            Runnable task;
            while (!closed && (task = tasks.poll()) != null) {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    Thread thread = Thread.currentThread();
                    thread.getUncaughtExceptionHandler().uncaughtException(thread, e);
                }
            }
        } finally {
            running = null;
            draining.set(false);
            synchronized (idle) {
                idle.notifyAll();
            }
        }
        if (closed) {
            tasks.clear();
        } else {
            try {
                startDraining(); // given after our last look, before draining was cleared
            } catch (RejectedExecutionException shutDown) {
                // the borrowed scheduler was shut down by its owner: nothing runs any more
            }
        }
    }

    /**
     * Stops the loop: drops what is queued or timed, refuses what comes, waits up to 5 s for a
     * running task (not when called from the loop) and, when it owns its scheduler, shuts it
     * down. Idempotent.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        closed = true;
        tasks.clear();
        for (Future<?> timer : timers) {
            timer.cancel(false);
        }
        timers.clear();
        if (owned) {
            scheduler.shutdownNow();
        }
        if (inLoop()) {
            return;
        }
        if (owned) {
            try {
                scheduler.awaitTermination(CLOSE_WAIT.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        synchronized (idle) {
            while (draining.get()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(idle, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
