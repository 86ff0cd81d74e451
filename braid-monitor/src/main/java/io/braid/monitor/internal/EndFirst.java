package io.braid.monitor.internal;

import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * Runs a span's ending before anyone who holds the returned future hears the outcome.
 * CompletableFuture runs the dependents of one future last-registered first, so an ending hung
 * on the future a caller also holds would run after the caller's continuation, and a caller who
 * looked at its finished spans could miss its own. Cancelling the returned future cancels the
 * underlying one, and the ending still runs.
 */
final class EndFirst {
    private EndFirst() {
    }

    static <T> CompletableFuture<T> then(CompletableFuture<T> underlying, BiConsumer<? super T, Throwable> ending) {
        CompletableFuture<T> outcome = new CompletableFuture<>();
        underlying.whenComplete((value, failure) -> {
            ending.accept(value, failure);
            if (failure == null) {
                outcome.complete(value);
            } else {
                outcome.completeExceptionally(failure);
            }
        });
        outcome.whenComplete((value, failure) -> {
            if (outcome.isCancelled()) {
                underlying.cancel(false);
            }
        });
        return outcome;
    }
}
