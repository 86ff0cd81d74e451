package io.braid.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Polls a condition until it holds or a deadline passes: how every braid test waits. Nothing
 * sleeps a fixed time hoping that something has happened meanwhile.
 */
public final class Await {
    private static final long FIRST_PAUSE_NANOS = Duration.ofMillis(2).toNanos();
    private static final long MAX_PAUSE_NANOS = Duration.ofMillis(10).toNanos();

    private Await() {
    }

    /**
     * Returns as soon as {@code condition} is true; a condition that throws a
     * {@link RuntimeException} counts as not yet true.
     *
     * @throws IllegalStateException after {@code timeout} without success; its message names
     *         {@code what} and its cause is the last exception the condition threw, if any
     */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        until(timeout, () -> what, condition);
    }

    /** As {@link #until(Duration, String, BooleanSupplier)}, the description computed on failure. */
    public static void until(Duration timeout, Supplier<String> what, BooleanSupplier condition) {
        Outcome outcome = pollFor(timeout, condition);
        if (!outcome.met()) {
            throw new IllegalStateException("Timed out after " + timeout.toMillis() + " ms waiting for "
                    + what.get(), outcome.lastFailure());
        }
    }

    /** Polls like {@link #until} but answers false on timeout instead of throwing. */
    public static boolean poll(Duration timeout, BooleanSupplier condition) {
        return pollFor(timeout, condition).met();
    }

    private record Outcome(boolean met, RuntimeException lastFailure) {
    }

    private static Outcome pollFor(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = FIRST_PAUSE_NANOS;
        RuntimeException lastFailure = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return new Outcome(true, null);
                }
            } catch (RuntimeException e) {
                lastFailure = e;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return new Outcome(false, lastFailure);
            }
            sleepNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting", e);
        }
    }
}
