package io.braid.runtime;

import io.braid.api.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ticker that moves only when a test moves it. It starts near {@code Long.MAX_VALUE}, so a policy
 * that compares readings instead of their differences fails when the reading wraps.
 */
final class MovedTicker implements Ticker {
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - Duration.ofSeconds(5).toNanos());

    @Override
    public long read() {
        return now.get();
    }

    void advance(Duration by) {
        now.addAndGet(by.toNanos());
    }
}
