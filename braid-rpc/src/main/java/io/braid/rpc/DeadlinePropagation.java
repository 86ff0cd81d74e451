package io.braid.rpc;

import io.braid.api.CallContext;
import io.braid.api.ClientInterceptor;
import io.braid.api.OutgoingCall;
import java.util.concurrent.CompletableFuture;

/**
 * A call made while serving another inherits the earlier deadline: a chain of calls never outlives
 * the first caller's patience. Installed on every client by default, as an interceptor like any
 * user's.
 */
public final class DeadlinePropagation implements ClientInterceptor {
    @Override
    public CompletableFuture<Object> intercept(OutgoingCall call, Next next) {
        CallContext serving = RpcContext.currentOrNull();
        if (serving != null) {
            call.tightenDeadline(serving.deadline());
        }
        return next.proceed(call);
    }
}
