package io.braid.api.internal;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * How braid closes an executor it owns: no new tasks, the queued ones still run, and the caller
 * waits a bounded time for them. Internal: may change without notice.
 */
public final class ExecutorClose {
    private ExecutorClose() {
    }

    /**
     * Shuts {@code executor} down and waits up to {@code wait} for its tasks to finish.
     *
     * @return whether every task finished in time (false also when interrupted; the interrupt is kept)
     */
    public static boolean shutdownAndWait(ExecutorService executor, Duration wait) {
        executor.shutdown();
        try {
            return executor.awaitTermination(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
