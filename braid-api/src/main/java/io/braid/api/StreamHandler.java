package io.braid.api;

/**
 * Serves a bidirectional stream, on a virtual thread (it may block). Returning ends the stream with
 * OK; throwing ends it with the exception's code, as for {@link Handler}.
 */
@FunctionalInterface
public interface StreamHandler<Q, R> {
    void handle(CallContext context, StreamReader<Q> in, StreamWriter<R> out) throws Exception;
}
