package io.braid.rpc.internal;

import io.braid.api.CallContext;
import java.util.function.Supplier;

/**
 * The call a handler is serving, for the thread that runs it (behind {@code RpcContext}): set by
 * the server around a handler, read by the client's deadline propagation.
 */
public final class ServingCall {
    private static final ThreadLocal<CallContext> CURRENT = new ThreadLocal<>();

    private ServingCall() {
    }

    /** The call being served on this thread, or null. */
    public static CallContext currentOrNull() {
        return CURRENT.get();
    }

    /** Runs {@code body} with {@code call} as the current call; restores the previous one after. */
    public static <T> T with(CallContext call, Supplier<T> body) {
        CallContext previous = CURRENT.get();
        CURRENT.set(call);
        try {
            return body.get();
        } finally {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }
}
