package io.braid.gateway.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Runs the binding steps of one token one at a time, in the order they were submitted, without a
 * thread or a lock held while a step waits for I/O: each step starts when the previous one's
 * future has completed (successfully or not). Steps of different tokens run independently. A step
 * runs on whichever thread completed the previous step (or the submitting thread), so steps must
 * not block; and a step must never wait for a later step of its own token. Thread-safe.
 */
final class TokenSerializer {
    private final ConcurrentHashMap<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    <T> CompletableFuture<T> run(String token, Supplier<CompletableFuture<T>> step) {
        CompletableFuture<Void> turn = new CompletableFuture<>();
        CompletableFuture<T> result = turn.thenCompose(ignored -> start(step));
        CompletableFuture<Void> done = result.handle((ok, failure) -> null);
        CompletableFuture<Void> previous = tails.put(token, done);
        done.whenComplete((ok, failure) -> tails.remove(token, done));
        if (previous == null) {
            turn.complete(null);
        } else {
            previous.whenComplete((ok, failure) -> turn.complete(null));
        }
        return result;
    }

    private static <T> CompletableFuture<T> start(Supplier<CompletableFuture<T>> step) {
        try {
            CompletableFuture<T> started = step.get();
            return started != null ? started
                    : CompletableFuture.failedFuture(new BraidException(Code.INTERNAL, "a binding step returned null"));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
