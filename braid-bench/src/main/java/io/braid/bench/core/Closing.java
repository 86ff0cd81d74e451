package io.braid.bench.core;

import java.util.Deque;

/** Closing what a run opened. */
public final class Closing {
    private Closing() {
    }

    /**
     * Closes {@code opened} from the top (the last opened first); every one is tried, and the first
     * failure is thrown afterwards with the later ones suppressed in it.
     */
    public static void closeAll(Deque<AutoCloseable> opened) throws Exception {
        Exception first = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
