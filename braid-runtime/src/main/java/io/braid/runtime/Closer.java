package io.braid.runtime;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.BiConsumer;

/**
 * What a node started, to be closed in reverse start order: by {@link Braid#close()}, by a
 * {@code start()} that failed half-way, and for the node's monitoring (pushed first, so a failed
 * start closes it last, and again once it serves, so a close stops it first; its close is
 * idempotent). A failing close does not stop the ones after it. Not thread-safe: the node starts on
 * one thread and closes once.
 */
final class Closer {
    private final Deque<AutoCloseable> started = new ArrayDeque<>();

    /** Notes {@code closeable} as started: it closes before everything pushed earlier. */
    void push(AutoCloseable closeable) {
        started.push(closeable);
    }

    /** Takes back the last one pushed (to put something under it), not closing it. */
    AutoCloseable pop() {
        return started.pop();
    }

    /** Closes everything pushed, last first, each once; a failure goes to {@code onFailure} and the rest still close. */
    void closeAll(BiConsumer<AutoCloseable, Exception> onFailure) {
        while (!started.isEmpty()) {
            AutoCloseable next = started.pop();
            try {
                next.close();
            } catch (Exception e) {
                onFailure.accept(next, e);
            }
        }
    }
}
