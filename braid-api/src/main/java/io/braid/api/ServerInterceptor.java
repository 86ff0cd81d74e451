package io.braid.api;

import java.util.concurrent.CompletionStage;

/**
 * Wraps every call a server serves (go-micro's handler wrapper). Interceptors run in registration
 * order on the thread the handler runs on (a virtual thread, or the event loop for handlers that
 * never block); each calls {@code next.proceed(call)} to go on, or throws (or returns a failed
 * stage with) a {@link BraidException} to refuse the call. The stage completes when the handler
 * has answered; its value is opaque to interceptors.
 */
@FunctionalInterface
public interface ServerInterceptor {
    CompletionStage<Object> intercept(IncomingCall call, Next next) throws Exception;

    /** The rest of the chain. */
    @FunctionalInterface
    interface Next {
        CompletionStage<Object> proceed(IncomingCall call);
    }
}
