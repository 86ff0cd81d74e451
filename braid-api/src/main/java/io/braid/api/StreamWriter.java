package io.braid.api;

/** The answers of a stream, for a {@link StreamHandler}. For one thread. */
public interface StreamWriter<R> {
    /**
     * Sends a message, blocking while the caller has no room for it (flow control). Throws a
     * {@link BraidException} when the stream ended (the caller cancelled, the deadline passed, the
     * connection was lost).
     */
    void write(R message) throws InterruptedException;
}
