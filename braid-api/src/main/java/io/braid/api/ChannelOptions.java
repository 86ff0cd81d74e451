package io.braid.api;

import java.time.Duration;
import java.util.Objects;

/**
 * How a channel delivers. Immutable; each {@code withX} returns a changed copy and validates its
 * argument at once.
 *
 * <p>Defaults: start at {@link StartPosition#LATEST}, concurrency 1 (in order), redeliver after 30
 * s, at most 5 deliveries before the dead letters, durable.
 */
public final class ChannelOptions {
    /** Where a new channel starts reading its topic. */
    public enum StartPosition {
        /** Only messages published after the channel was created. */
        LATEST,
        /** Every message the topic still holds. */
        EARLIEST
    }

    public static final ChannelOptions DEFAULT =
            new ChannelOptions(StartPosition.LATEST, 1, Duration.ofSeconds(30), 5, true);

    private final StartPosition startAt;
    private final int concurrency;
    private final Duration redeliverAfter;
    private final int maxDeliveries;
    private final boolean durable;

    private ChannelOptions(StartPosition startAt, int concurrency, Duration redeliverAfter, int maxDeliveries,
                           boolean durable) {
        this.startAt = startAt;
        this.concurrency = concurrency;
        this.redeliverAfter = redeliverAfter;
        this.maxDeliveries = maxDeliveries;
        this.durable = durable;
    }

    public ChannelOptions withStartAt(StartPosition startAt) {
        return new ChannelOptions(Objects.requireNonNull(startAt, "startAt"), concurrency, redeliverAfter,
                maxDeliveries, durable);
    }

    /** Handlers running at once for this consumer, 1..1024; 1 keeps the topic's order. */
    public ChannelOptions withConcurrency(int concurrency) {
        if (concurrency < 1 || concurrency > 1024) {
            throw new IllegalArgumentException("concurrency must be in 1..1024, was " + concurrency);
        }
        return new ChannelOptions(startAt, concurrency, redeliverAfter, maxDeliveries, durable);
    }

    /** How long a delivered, unacknowledged message waits before another consumer may claim it. */
    public ChannelOptions withRedeliverAfter(Duration redeliverAfter) {
        Objects.requireNonNull(redeliverAfter, "redeliverAfter");
        if (redeliverAfter.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("redeliverAfter must be at least 1 ms, was " + redeliverAfter);
        }
        return new ChannelOptions(startAt, concurrency, redeliverAfter, maxDeliveries, durable);
    }

    /** Deliveries before a message moves to the dead letters, at least 1. */
    public ChannelOptions withMaxDeliveries(int maxDeliveries) {
        if (maxDeliveries < 1) {
            throw new IllegalArgumentException("maxDeliveries must be at least 1, was " + maxDeliveries);
        }
        return new ChannelOptions(startAt, concurrency, redeliverAfter, maxDeliveries, durable);
    }

    /** Durable channels outlive their consumers; ephemeral ones are removed when their consumer closes. */
    public ChannelOptions withDurable(boolean durable) {
        return new ChannelOptions(startAt, concurrency, redeliverAfter, maxDeliveries, durable);
    }

    public StartPosition startAt() {
        return startAt;
    }

    public int concurrency() {
        return concurrency;
    }

    public Duration redeliverAfter() {
        return redeliverAfter;
    }

    public int maxDeliveries() {
        return maxDeliveries;
    }

    public boolean durable() {
        return durable;
    }

    @Override
    public String toString() {
        return "ChannelOptions{startAt=" + startAt + ", concurrency=" + concurrency + ", redeliverAfter="
                + redeliverAfter + ", maxDeliveries=" + maxDeliveries + ", durable=" + durable + "}";
    }
}
