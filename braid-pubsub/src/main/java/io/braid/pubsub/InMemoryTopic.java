package io.braid.pubsub;

import io.braid.api.BraidException;
import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.DeadLetter;
import io.braid.api.Topic;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** One topic of an {@link InMemoryPubsub}: publishes to and subscribes on the shared log. */
final class InMemoryTopic implements Topic {
    private final InMemoryPubsub pubsub;
    private final InMemoryTopicLog log;

    InMemoryTopic(InMemoryPubsub pubsub, InMemoryTopicLog log) {
        this.pubsub = pubsub;
        this.log = log;
    }

    @Override
    public String name() {
        return log.topic();
    }

    @Override
    public CompletableFuture<String> publish(byte[] body, Map<String, String> headers) {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(headers, "headers");
        Names.headers(headers);
        BraidException tooLarge = Names.tooLarge(body, headers, pubsub.maxBodyBytes);
        if (tooLarge != null) {
            return CompletableFuture.failedFuture(tooLarge);
        }
        pubsub.requireOpen();
        String id = log.append(Map.copyOf(headers), body.clone());
        pubsub.listener.published(log.topic());
        return CompletableFuture.completedFuture(id);
    }

    @Override
    public Channel subscribe(String channel, ChannelOptions options) {
        Objects.requireNonNull(options, "options");
        pubsub.requireOpen();
        InMemoryChannel consumer = new InMemoryChannel(pubsub, log, Names.channel(channel), options);
        pubsub.channels.add(consumer);
        return consumer;
    }

    @Override
    public CompletableFuture<List<DeadLetter>> deadLetters(int limit) {
        requireLimit(limit);
        return CompletableFuture.completedFuture(log.deadLetters(limit));
    }

    @Override
    public CompletableFuture<Integer> replayDeadLetters(int limit) {
        requireLimit(limit);
        return CompletableFuture.completedFuture(log.replayDeadLetters(limit, RedisTopic.REPLAY_OF));
    }

    private static void requireLimit(int limit) {
        if (limit < 1 || limit > 100_000) {
            throw new IllegalArgumentException("limit must be in 1..100000, was " + limit);
        }
    }

    @Override
    public String toString() {
        return "InMemoryTopic{" + log.topic() + "}";
    }
}
