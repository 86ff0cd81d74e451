package io.braid.rpc.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;

/**
 * The server's own executor of blocking handlers: a new virtual thread per task, and nothing else
 * per task. Unlike {@code Executors.newThreadPerTaskExecutor} it keeps no set of its threads (that
 * set's entry, and a name built per thread, cost more than the thread itself) and it does not wait
 * for them: the server waits for its calls through their answers (the shutdown grace), not
 * through this executor. Its threads are unnamed virtual threads; a thread dump shows them with
 * the braid frames they run.
 *
 * <p>Thread-safe. After {@link #shutdown()} it refuses new tasks with
 * {@link RejectedExecutionException}; tasks already started run on.
 */
final class HandlerThreads implements Executor {
    private final ThreadFactory factory = Thread.ofVirtual().factory();
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable task) {
        if (shutdown) {
            throw new RejectedExecutionException("the server's handler threads are shut down");
        }
        factory.newThread(task).start();
    }

    /** Refuses new tasks from now on. Idempotent. */
    void shutdown() {
        shutdown = true;
    }
}
