package io.braid.api;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** A named stream of messages. Thread-safe. */
public interface Topic {
    String name();

    /** Publishes a message; the future completes with its id once the store has it. */
    CompletableFuture<String> publish(byte[] body, Map<String, String> headers);

    default CompletableFuture<String> publish(byte[] body) {
        return publish(body, Map.of());
    }

    /** Joins {@code channel} of this topic as one consumer; messages flow once a handler is set. */
    Channel subscribe(String channel, ChannelOptions options);

    default Channel subscribe(String channel) {
        return subscribe(channel, ChannelOptions.DEFAULT);
    }
}
