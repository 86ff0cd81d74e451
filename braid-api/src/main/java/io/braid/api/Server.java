package io.braid.api;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.util.Set;

/**
 * The serving side of a node: method name to handler. Register handlers before or after start.
 * Thread-safe.
 *
 * <p>Registration returns synchronously, so a bad argument throws: a {@link BraidException} of
 * {@link Code#INVALID_ARGUMENT} whose message names it (a null or blank method, a null parser or
 * handler, a method already registered), and the server is left as it was.
 *
 * <p>What callers see: an unknown method is {@link Code#NOT_FOUND}; a request that does not parse
 * is {@link Code#INVALID_ARGUMENT}; a handler that throws is {@link Code#INTERNAL} (or the code of
 * the {@link BraidException} it threw); an expired deadline is {@link Code#DEADLINE_EXCEEDED}; a
 * response larger than the frame limit is {@link Code#RESOURCE_EXHAUSTED}.
 */
public interface Server {
    /** Registers a blocking handler: it runs on a virtual thread per call. */
    <Q, R extends MessageLite> void handle(String method, Parser<Q> requestParser, Handler<Q, R> handler);

    /**
     * Registers a non-blocking handler: it runs inline on the event loop that read the request,
     * which saves the thread hand-off. It must never block.
     */
    <Q, R extends MessageLite> void handleAsync(String method, Parser<Q> requestParser, AsyncHandler<Q, R> handler);

    /** Registers a bidirectional stream handler; it runs on a virtual thread per stream. */
    <Q, R extends MessageLite> void handleStream(String method, Parser<Q> requestParser, StreamHandler<Q, R> handler);

    /** Registers a blocking handler of raw bytes (no protobuf on either side). */
    void handleBytes(String method, Handler<byte[], byte[]> handler);

    /** The methods registered so far. */
    Set<String> methods();
}
