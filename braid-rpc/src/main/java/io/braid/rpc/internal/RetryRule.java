package io.braid.rpc.internal;

import io.braid.api.BraidException;
import java.util.function.BooleanSupplier;

/**
 * When a failed attempt is tried again, on another node: only a stateless call (a call with a
 * token is never moved by this rule: only a refusal that says it did not run there sends it on,
 * see {@link Reroute}), only when its request was provably never written or the call is
 * idempotent, only while attempts are left ({@code maxAttempts}, the first included), its deadline
 * has not passed and the client is open. Otherwise the call fails with the attempt's reason.
 * Runs on the event loop of the failed attempt.
 */
final class RetryRule {
    private final int maxAttempts;
    private final BooleanSupplier closed;
    private final NodePicker picker;

    RetryRule(int maxAttempts, BooleanSupplier closed, NodePicker picker) {
        this.maxAttempts = maxAttempts;
        this.closed = closed;
        this.picker = picker;
    }

    /** Whether a call whose attempt failed may be tried again. */
    boolean allows(PendingCall<?> call, boolean written) {
        return (!written || call.idempotent()) && call.token().isEmpty()
                && call.attempts() < maxAttempts && !call.deadline().isExpired() && !closed.getAsBoolean();
    }

    /** Tries {@code call} again on another node if {@link #allows}, else fails it with {@code reason}. */
    void retryOrFail(PendingCall<?> call, BraidException reason, boolean written) {
        if (call.isDone()) {
            return;
        }
        if (!allows(call, written)) {
            call.completeExceptionally(reason);
            return;
        }
        try {
            picker.attempt(call, reason);
        } catch (BraidException e) {
            call.completeExceptionally(e);
        }
    }
}
