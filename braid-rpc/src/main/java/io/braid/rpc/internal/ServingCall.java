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
        CallContext previous = enter(call);
        try {
            return body.get();
        } finally {
            exit(previous);
        }
    }

    /**
     * Makes {@code call} the current call; answers the previous one, which {@link #exit} puts back.
     * The thread's slot stays when a call ends (it is set to the previous call, null included,
     * never removed), so an event loop that serves call after call allocates nothing for it.
     */
    static CallContext enter(CallContext call) {
        CallContext previous = CURRENT.get();
        CURRENT.set(call);
        return previous;
    }

    /** Puts back the call {@link #enter} answered. */
    static void exit(CallContext previous) {
        CURRENT.set(previous);
    }
}
