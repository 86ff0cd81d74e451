package io.braid.pubsub.internal;

import io.braid.api.Pubsub;
import io.braid.api.Topic;
import io.braid.api.internal.PubsubListener;
import io.braid.api.internal.PubsubStats;
import io.braid.api.internal.TopicStats;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Topics and channels inside one JVM, with the semantics of {@link RedisPubsub}: one instance is
 * one process's view of the {@link InMemoryStreams} it is given, and instances sharing those
 * streams behave like the processes of one cluster sharing a Redis. A topic is an append-only log;
 * a channel is a group with its own position and pending messages; each
 * {@link io.braid.api.Channel} subscribed here is one consumer of its channel. One channel with one
 * consumer is a single receive, several channels a broadcast, several consumers of one channel
 * compete.
 *
 * <p>A consumer takes a message only when one of its {@code concurrency} handler slots is free,
 * so a slow handler slows its consumer and nothing buffers without bound. A handler that returns
 * acknowledges its message; one that throws leaves it pending. A message pending longer than
 * {@code redeliverAfter} is claimed by any consumer of its channel that has a free slot (its
 * delivery count grows); one that was delivered {@code maxDeliveries} times moves to the topic's
 * dead letters with the last failure as its reason. Ephemeral channels go when their last
 * consumer closes; durable ones stay and keep their messages. {@link #trim()} removes what no
 * channel needs. Bodies over {@code maxBodyBytes} (1 MiB) are refused with
 * {@code RESOURCE_EXHAUSTED}.
 *
 * <p>Handlers and each consumer's dispatcher run on virtual threads; a dispatcher waits on its
 * channel's condition (a publish, or the next pending message becoming stale), never polls.
 * Thread-safe. {@link #close()} closes every channel subscribed through this instance and lets
 * running handlers finish; it does not touch the borrowed streams. Idempotent.
 */
public final class InMemoryPubsub implements Pubsub, PubsubStats {
    static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

    final InMemoryStreams streams;
    final String consumerPrefix;
    final int maxBodyBytes;
    final PubsubListener listener;
    final ExecutorService handlers;
    final Set<InMemoryChannel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicInteger consumers = new AtomicInteger();
    private final Map<String, InMemoryTopic> topics = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param streams      the cluster's topics, shared with the other members; borrowed, never closed here
     * @param consumerName prefix of this member's consumer names (the node id, typically)
     */
    public InMemoryPubsub(InMemoryStreams streams, String consumerName) {
        this(streams, consumerName, DEFAULT_MAX_BODY_BYTES, PubsubListener.NONE);
    }

    /** As {@link #InMemoryPubsub(InMemoryStreams, String)}, telling {@code listener} what it does. */
    public InMemoryPubsub(InMemoryStreams streams, String consumerName, PubsubListener listener) {
        this(streams, consumerName, DEFAULT_MAX_BODY_BYTES, listener);
    }

    InMemoryPubsub(InMemoryStreams streams, String consumerName, int maxBodyBytes) {
        this(streams, consumerName, maxBodyBytes, PubsubListener.NONE);
    }

    InMemoryPubsub(InMemoryStreams streams, String consumerName, int maxBodyBytes, PubsubListener listener) {
        this.streams = Objects.requireNonNull(streams, "streams");
        if (consumerName == null || consumerName.isBlank()) {
            throw new IllegalArgumentException("consumerName must not be blank");
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be positive, was " + maxBodyBytes);
        }
        this.consumerPrefix = consumerName;
        this.maxBodyBytes = maxBodyBytes;
        this.listener = Objects.requireNonNull(listener, "listener");
        this.handlers = MessageHandlers.start();
    }

    @Override
    public Topic topic(String name) {
        requireOpen();
        return topics.computeIfAbsent(Names.topic(name), n -> new InMemoryTopic(this, streams.log(n)));
    }

    /** Trims every topic of the shared streams, as {@link InMemoryStreams#trim()}. */
    public long trim() {
        return streams.trim();
    }

    /** The figures of every topic of the shared streams (what every member sees). */
    @Override
    public java.util.concurrent.CompletableFuture<java.util.List<TopicStats>> topicStats() {
        return java.util.concurrent.CompletableFuture.completedFuture(streams.stats());
    }

    String nextConsumerName() {
        return consumerPrefix + "-" + consumers.incrementAndGet();
    }

    boolean isClosed() {
        return closed.get();
    }

    void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException("pubsub is closed");
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Channels.closeTogether(channels);
        MessageHandlers.close(handlers);
    }

    @Override
    public String toString() {
        return "InMemoryPubsub{" + consumerPrefix + "}";
    }
}
