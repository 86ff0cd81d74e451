package io.braid.bench.core;

/**
 * One kind of asynchronous operation a cell drives: an echo call, a Redis GET, a publish. The
 * runner decides how many are in flight and when the next one starts; the load only starts one
 * and reports its end.
 */
public interface Load extends AutoCloseable {

    /** Starts one operation; {@code done} is called exactly once when it ends, on any thread. */
    void start(Done done);

    /** Releases connections, servers and threads. */
    @Override
    default void close() throws Exception {
    }

    /** The end of one operation. */
    @FunctionalInterface
    interface Done {
        /** @param error null when the operation succeeded */
        void done(Throwable error);
    }
}
