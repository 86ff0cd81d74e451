package io.braid.api;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BraidExceptionTest {

    @Test
    void keeps_its_code_message_and_cause() {
        IOException cause = new IOException("connection reset");

        BraidException e = new BraidException(Code.UNAVAILABLE, "peer gone", cause);

        assertThat(e.code()).isEqualTo(Code.UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo("peer gone");
        assertThat(e.getCause()).isSameAs(cause);
        assertThat(e).hasToString("BraidException{UNAVAILABLE: peer gone}");
    }

    @Test
    void refuses_ok_because_ok_is_not_a_failure() {
        assertThatThrownBy(() -> new BraidException(Code.OK, "fine"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Code.OK");
    }

    @Test
    void refuses_a_null_code() {
        assertThatThrownBy(() -> new BraidException(null, "no code"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("code");
    }

    @Test
    void from_returns_a_braid_exception_itself() {
        BraidException original = new BraidException(Code.NOT_FOUND, "no such method");

        assertThat(BraidException.from(original)).isSameAs(original);
    }

    @Test
    void from_unwraps_a_completion_exception() {
        BraidException original = new BraidException(Code.DEADLINE_EXCEEDED, "too slow");

        assertThat(BraidException.from(new CompletionException(original))).isSameAs(original);
    }

    @Test
    void from_unwraps_an_execution_exception() {
        BraidException original = new BraidException(Code.RESOURCE_EXHAUSTED, "queue full");

        assertThat(BraidException.from(new ExecutionException(original))).isSameAs(original);
    }

    @Test
    void from_unwraps_a_chain_of_wrappers() {
        BraidException original = new BraidException(Code.CANCELLED, "cancelled");
        Throwable chain = new ExecutionException(new CompletionException(new ExecutionException(original)));

        assertThat(BraidException.from(chain)).isSameAs(original);
    }

    @Test
    void from_unwraps_what_a_failed_future_throws() {
        BraidException original = new BraidException(Code.UNAVAILABLE, "no node");
        CompletableFuture<String> failed = CompletableFuture.failedFuture(original);
        CompletableFuture<String> dependent = failed.thenApply(s -> s + "!");

        assertThatThrownBy(dependent::join)
                .isInstanceOf(CompletionException.class)
                .satisfies(thrown -> assertThat(BraidException.from(thrown)).isSameAs(original));
        assertThatThrownBy(dependent::get)
                .isInstanceOf(ExecutionException.class)
                .satisfies(thrown -> assertThat(BraidException.from(thrown)).isSameAs(original));
    }

    @Test
    void from_maps_a_foreign_throwable_to_unknown_and_keeps_it_as_cause() {
        IllegalStateException foreign = new IllegalStateException("boom");

        BraidException e = BraidException.from(foreign);

        assertThat(e.code()).isEqualTo(Code.UNKNOWN);
        assertThat(e.getCause()).isSameAs(foreign);
        assertThat(e.getMessage()).contains("boom");
    }

    @Test
    void from_maps_a_wrapped_foreign_throwable_to_unknown_with_the_root_as_cause() {
        IOException foreign = new IOException("disk on fire");

        BraidException e = BraidException.from(new CompletionException(new ExecutionException(foreign)));

        assertThat(e.code()).isEqualTo(Code.UNKNOWN);
        assertThat(e.getCause()).isSameAs(foreign);
        assertThat(e.getMessage()).contains("disk on fire");
    }

    @Test
    void from_does_not_look_inside_foreign_exceptions() {
        // Only CompletionException and ExecutionException are wrappers; anything else is the failure itself.
        RuntimeException foreign = new RuntimeException("handler failed",
                new BraidException(Code.NOT_FOUND, "inner"));

        BraidException e = BraidException.from(foreign);

        assertThat(e.code()).isEqualTo(Code.UNKNOWN);
        assertThat(e.getCause()).isSameAs(foreign);
    }

    @Test
    void from_a_wrapper_without_cause_keeps_the_wrapper_as_cause() {
        CompletionException empty = new CompletionException("no cause", null);

        BraidException e = BraidException.from(empty);

        assertThat(e.code()).isEqualTo(Code.UNKNOWN);
        assertThat(e.getCause()).isSameAs(empty);
    }
}
