package io.braid.pubsub.internal;

import io.braid.api.BraidException;
import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.DeadLetter;
import io.braid.api.Topic;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A topic whose calls check their arguments alike on every backend before the backend acts: a
 * refused publish or dead-letter call fails its future ({@code INVALID_ARGUMENT}, or
 * {@code RESOURCE_EXHAUSTED} for a body over the limit) and a bad subscribe throws, naming the
 * argument. Subclasses only append, open, read and replay.
 */
abstract class CheckedTopic implements Topic {
    private final int maxBodyBytes;

    CheckedTopic(int maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public final CompletableFuture<String> publish(byte[] body, Map<String, String> headers) {
        BraidException refused = Names.refusal(body, headers, maxBodyBytes);
        return refused != null ? CompletableFuture.failedFuture(refused) : append(body, headers);
    }

    @Override
    public final Channel subscribe(String channel, ChannelOptions options) {
        String checked = Names.channel(channel);
        return open(checked, Names.required(options, "options"));
    }

    @Override
    public final CompletableFuture<List<DeadLetter>> deadLetters(int limit) {
        BraidException refused = Names.limitRefusal(limit);
        return refused != null ? CompletableFuture.failedFuture(refused) : readDeadLetters(limit);
    }

    @Override
    public final CompletableFuture<Integer> replayDeadLetters(int limit) {
        BraidException refused = Names.limitRefusal(limit);
        return refused != null ? CompletableFuture.failedFuture(refused) : replay(limit);
    }

    /** Publishes a checked message: the body within the limit, the headers valid. */
    abstract CompletableFuture<String> append(byte[] body, Map<String, String> headers);

    /** Subscribes a consumer to a checked channel name with checked options. */
    abstract Channel open(String channel, ChannelOptions options);

    /** Reads up to {@code limit} (checked) dead letters, oldest first. */
    abstract CompletableFuture<List<DeadLetter>> readDeadLetters(int limit);

    /** Publishes up to {@code limit} (checked) dead letters again and removes them from the dead letters. */
    abstract CompletableFuture<Integer> replay(int limit);
}
