package io.braid.monitor.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;

/**
 * Runs an ending (a span's end, a timer's record) before anyone who holds the returned future
 * hears the outcome. CompletableFuture runs the dependents of one future last-registered first,
 * so an ending hung on the future a caller also holds would run after the caller's continuation,
 * and a caller who looked at its finished spans or its meters could miss its own call.
 * Cancelling the returned future cancels the underlying one, and the ending still runs. An ending
 * that throws still lets the outcome through.
 */
final class EndFirst {
    private EndFirst() {
    }

    static <T> CompletableFuture<T> then(CompletionStage<T> underlying, BiConsumer<? super T, Throwable> ending) {
        CompletableFuture<T> outcome = new CompletableFuture<>();
        underlying.whenComplete((value, failure) -> {
            try {
                ending.accept(value, failure);
            } finally {
                if (failure == null) {
                    outcome.complete(value);
                } else {
                    outcome.completeExceptionally(failure);
                }
            }
        });
        outcome.whenComplete((value, failure) -> {
            if (outcome.isCancelled() && underlying instanceof Future<?> future) {
                future.cancel(false);
            }
        });
        return outcome;
    }
}
