package io.braid.monitor.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link EndFirst}: the ending runs before the holder of the returned future hears the outcome,
 * an ending that throws still lets the outcome through, and cancelling the returned future cancels
 * the underlying one (the call it stands for).
 */
class EndFirstTest {
    @Test
    void theEndingHasRunWhenTheHolderHearsTheOutcome() {
        CompletableFuture<String> underlying = new CompletableFuture<>();
        AtomicBoolean ended = new AtomicBoolean();
        CompletableFuture<String> outcome = EndFirst.then(underlying, (value, failure) -> ended.set(true));
        AtomicBoolean endedWhenHeard = new AtomicBoolean();
        outcome.whenComplete((value, failure) -> endedWhenHeard.set(ended.get()));
        underlying.whenComplete((value, failure) -> { }); // a later dependent of the underlying future runs first
        underlying.complete("answer");
        assertThat(outcome).isCompletedWithValue("answer");
        assertThat(endedWhenHeard).isTrue();
    }

    @Test
    void anEndingThatThrowsStillLetsTheOutcomeThrough() {
        CompletableFuture<String> underlying = new CompletableFuture<>();
        CompletableFuture<String> outcome = EndFirst.then(underlying, (value, failure) -> {
            throw new IllegalStateException("a broken exporter");
        });
        underlying.completeExceptionally(new IllegalArgumentException("the call failed"));
        assertThat(outcome).isCompletedExceptionally();
        assertThat(outcome.exceptionNow()).isInstanceOf(IllegalArgumentException.class).hasMessage("the call failed");
    }

    @Test
    void cancellingTheOutcomeCancelsTheUnderlyingFutureAndTheEndingRuns() {
        CompletableFuture<String> underlying = new CompletableFuture<>();
        AtomicBoolean ended = new AtomicBoolean();
        CompletableFuture<String> outcome = EndFirst.then(underlying, (value, failure) -> ended.set(true));
        outcome.cancel(false);
        assertThat(underlying).isCancelled();
        assertThat(ended).isTrue();
    }
}
