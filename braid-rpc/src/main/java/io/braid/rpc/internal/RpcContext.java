package io.braid.rpc.internal;

import io.braid.api.CallContext;
import java.util.Optional;

/**
 * The call a handler is serving, for the thread that runs it: how a handler's deadline (and, with
 * tracing, its trace) flows into the calls and streams it makes without passing it by hand. Set
 * while a blocking handler runs on its virtual thread, and while a non-blocking handler's
 * synchronous part runs; work it continues on other threads must pass {@link CallContext#deadline()}
 * itself.
 */
public final class RpcContext {
    private RpcContext() {
    }

    /** The call being served on this thread, if any. */
    public static Optional<CallContext> current() {
        return Optional.ofNullable(ServingCall.currentOrNull());
    }

    /** Runs {@code body} with {@code call} as the current call; restores the previous one after. */
    public static <T> T with(CallContext call, java.util.function.Supplier<T> body) {
        return ServingCall.with(call, body);
    }
}
