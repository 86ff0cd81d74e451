package io.braid.rpc.internal;

import io.braid.api.CallContext;
import io.braid.api.ClientInterceptor;
import io.braid.api.Deadline;
import io.braid.api.OutgoingCall;
import java.util.concurrent.CompletableFuture;

/**
 * A call or stream made while serving another inherits the earlier deadline: a chain of calls
 * never outlives the first caller's patience. The one place this rule is written: the first
 * interceptor of every client's chain (unless turned off), which {@link ClientCallChain} also
 * applies in place when it is the whole chain.
 */
final class DeadlinePropagation implements ClientInterceptor {
    /** The earlier of {@code own} and the deadline of the call this thread is serving, if any. */
    static Deadline inherit(Deadline own) {
        CallContext serving = ServingCall.currentOrNull();
        return serving == null ? own : own.min(serving.deadline());
    }

    @Override
    public CompletableFuture<Object> intercept(OutgoingCall call, Next next) {
        CallContext serving = ServingCall.currentOrNull();
        if (serving != null) {
            call.tightenDeadline(serving.deadline());
        }
        return next.proceed(call);
    }
}
