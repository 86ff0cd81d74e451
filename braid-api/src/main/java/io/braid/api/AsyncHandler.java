package io.braid.api;

import java.util.concurrent.CompletionStage;

/**
 * A request handler that never blocks. It runs inline on the connection's event loop (no thread
 * hand-off, the fastest path), so it must return at once and finish its work through the returned
 * stage. Blocking here stalls every connection of that event loop. The stage's failure maps to a
 * code as for {@link Handler}.
 *
 * @param <Q> request type
 * @param <R> response type
 */
@FunctionalInterface
public interface AsyncHandler<Q, R> {
    CompletionStage<R> handle(CallContext context, Q request) throws Exception;
}
