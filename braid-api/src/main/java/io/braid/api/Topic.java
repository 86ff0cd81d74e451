package io.braid.api;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A named stream of messages that fans out to every channel subscribed to it. Thread-safe.
 * Headers whose keys start with {@code braid-} are reserved.
 */
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

    /** Up to {@code limit} dead letters of this topic, oldest first. */
    CompletableFuture<List<DeadLetter>> deadLetters(int limit);

    /**
     * Publishes up to {@code limit} dead letters again (oldest first) and removes them from the
     * dead letters. Every channel of the topic sees a replayed message again, marked with the
     * header {@code braid-replay-of} (the original id). Completes with how many were replayed.
     */
    CompletableFuture<Integer> replayDeadLetters(int limit);
}
