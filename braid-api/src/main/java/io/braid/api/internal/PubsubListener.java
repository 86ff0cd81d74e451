package io.braid.api.internal;

/**
 * Hears what a pub-sub instance does, for metrics (braid-monitor counts these). Every method has
 * an empty default, so a listener overrides only what it needs. Methods are called on the threads
 * that do the work (publishers, channel dispatchers), never while a lock of this module is held;
 * they must be quick and must not block or throw.
 */
public interface PubsubListener {
    /** A listener that hears nothing: the default. */
    PubsubListener NONE = new PubsubListener() {
    };

    /** A message was accepted by the store for {@code topic}. */
    default void published(String topic) {
    }

    /** A message is handed to a handler of {@code channel} for the first time. */
    default void delivered(String topic, String channel) {
    }

    /** A message is handed to a handler of {@code channel} again (its delivery count is 2 or more). */
    default void redelivered(String topic, String channel) {
    }

    /** A message of {@code channel} ran out of deliveries and moved to the topic's dead letters. */
    default void deadLettered(String topic, String channel) {
    }
}
