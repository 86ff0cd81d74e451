package io.braid.api;

import java.util.concurrent.CompletableFuture;

/**
 * Wraps every call a client makes (go-micro's call wrapper). Interceptors run in registration
 * order on the caller's thread; each calls {@code next.proceed(call)} to go on, or returns its own
 * future (a failed one with a {@link BraidException} to refuse the call). The future's value is the
 * decoded answer; observe the outcome by chaining on it. Streams go through the same chain: for a
 * stream the future completes (with null) when the stream ends, or fails with how it ended; a
 * refusal ends the stream before it opens. Must not block.
 */
@FunctionalInterface
public interface ClientInterceptor {
    CompletableFuture<Object> intercept(OutgoingCall call, Next next);

    /** The rest of the chain. */
    @FunctionalInterface
    interface Next {
        CompletableFuture<Object> proceed(OutgoingCall call);
    }
}
