package io.braid.bench.pekko;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * For each entity, the first time ({@link System#nanoTime()}) it answered from the watched node:
 * when the hand-off to that node is complete for every entity. Thread-safe.
 */
final class FirstAnswers {
    private final String watchedNode;
    private final AtomicLongArray firstFromWatched;

    FirstAnswers(int entities, String watchedNode) {
        this.watchedNode = watchedNode;
        this.firstFromWatched = new AtomicLongArray(entities);
    }

    /** {@code entity} answered {@code value} at {@code endedNanos}. */
    void answered(int entity, PekkoCounter.Value value, long endedNanos) {
        if (value.node().equals(watchedNode) && firstFromWatched.get(entity) == 0) {
            firstFromWatched.compareAndSet(entity, 0, endedNanos == 0 ? 1 : endedNanos);
        }
    }

    /** Entities that have answered from the watched node. */
    int fromWatched() {
        int answered = 0;
        for (int i = 0; i < firstFromWatched.length(); i++) {
            if (firstFromWatched.get(i) != 0) {
                answered++;
            }
        }
        return answered;
    }

    /** When the last entity first answered from the watched node; 0 while some never did. */
    long everyFromWatchedAt() {
        long last = Long.MIN_VALUE;
        for (int i = 0; i < firstFromWatched.length(); i++) {
            long at = firstFromWatched.get(i);
            if (at == 0) {
                return 0;
            }
            last = Math.max(last, at);
        }
        return last;
    }
}
