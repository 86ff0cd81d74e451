package io.braid.api;

/**
 * This node's membership in one channel of a topic (braid's Arrived). Closing stops delivery to
 * this consumer; a durable channel keeps its messages for the other and later consumers, an
 * ephemeral one is removed. {@link #close()} is idempotent.
 */
public interface Channel extends AutoCloseable {
    String topic();

    String name();

    /** Sets the handler and starts delivery. A handler may be set once. */
    void onMessage(MessageHandler handler);

    @Override
    void close();
}
