package io.braid.api;

import java.util.concurrent.CompletableFuture;

/**
 * A bidirectional stream opened by {@link Client#stream}, routed like a call with the same token
 * (it reaches the node that owns the player). Flow control works both ways: the server can send
 * only as many messages as this side has room for, and {@link #send}'s future completes only once
 * the server has room, so a fast sender never floods a slow receiver. Thread-safe.
 *
 * <p>The stream ends when the server's handler returns (OK), fails (its code), the deadline passes
 * (DEADLINE_EXCEEDED), either side cancels (CANCELLED), or the connection is lost (UNAVAILABLE).
 *
 * @param <Q> messages sent
 * @param <R> messages received
 */
public interface ClientStream<Q, R> {
    /**
     * Sends a message; the future completes when it is written within the server's window, or
     * fails when the stream has ended. Wait for it before sending the next to keep memory bounded;
     * more than a few thousand unsent messages fail with RESOURCE_EXHAUSTED.
     */
    CompletableFuture<Void> send(Q message);

    /** No more messages from this side; the server's reader sees the end. Idempotent. */
    void halfClose();

    /** Ends the stream now on both sides with CANCELLED. Idempotent. */
    void cancel();

    /**
     * The next message from the server; completes with {@code null} once the stream ended OK, or
     * fails with the stream's {@link BraidException}.
     */
    CompletableFuture<R> receive();

    /** Completes when the stream has ended: normally when the server ended it OK, else exceptionally. */
    CompletableFuture<Void> done();
}
