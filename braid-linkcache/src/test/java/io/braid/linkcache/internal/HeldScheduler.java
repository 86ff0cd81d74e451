package io.braid.linkcache.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler to lend a cache in tests: it holds its periodic tasks instead of running them, so
 * a heartbeat runs only when the test calls {@link #runHeld()}. One-off tasks run as usual.
 */
final class HeldScheduler extends ScheduledThreadPoolExecutor {
    /** A periodic task handed in, its period, and the handle given back for it. */
    record Held(Runnable task, long periodNanos, ScheduledFuture<?> handle) {
    }

    final List<Held> held = new CopyOnWriteArrayList<>();

    HeldScheduler() {
        super(1, task -> Thread.ofPlatform().name("held-scheduler").daemon().unstarted(task));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, long initialDelay, long period, TimeUnit unit) {
        return hold(task, unit.toNanos(period));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, long initialDelay, long delay, TimeUnit unit) {
        return hold(task, unit.toNanos(delay));
    }

    private ScheduledFuture<?> hold(Runnable task, long periodNanos) {
        // A handle that never fires by itself; cancelling it is what the owner of the task does.
        ScheduledFuture<?> handle = schedule(() -> { }, 365, TimeUnit.DAYS);
        held.add(new Held(task, periodNanos, handle));
        return handle;
    }

    /** Runs every held task whose handle is not cancelled, once, on the calling thread. */
    void runHeld() {
        for (Held h : held) {
            if (!h.handle().isCancelled()) {
                h.task().run();
            }
        }
    }
}
