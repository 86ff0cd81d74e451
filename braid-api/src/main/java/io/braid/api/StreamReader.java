package io.braid.api;

/** The caller's messages of a stream, for a {@link StreamHandler}. For one thread. */
public interface StreamReader<Q> {
    /**
     * The next message, blocking until it comes; {@code null} once the caller half-closed. Throws
     * a {@link BraidException} (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE) when the stream ended.
     */
    Q read() throws InterruptedException;
}
