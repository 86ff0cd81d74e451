package io.braid.api;

/**
 * Topics and channels (go-micro's Broker, NSQ's model): a topic fans out to every channel; a
 * channel is a queue whose subscribers compete. Delivery is at least once. Thread-safe;
 * {@link #close()} closes every channel subscribed through this instance and is idempotent.
 */
public interface Pubsub extends AutoCloseable {
    /** The topic of this name; cheap, creates nothing until the first publish or subscribe. */
    Topic topic(String name);

    @Override
    void close();
}
