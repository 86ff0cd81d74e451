package io.braid.api;

/**
 * A request handler that may block (it runs on a virtual thread, never on an event loop).
 * Returning answers the call; throwing a {@link BraidException} answers with its code; any other
 * exception answers {@link Code#INTERNAL} with the exception's message.
 *
 * @param <Q> request type
 * @param <R> response type
 */
@FunctionalInterface
public interface Handler<Q, R> {
    R handle(CallContext context, Q request) throws Exception;
}
