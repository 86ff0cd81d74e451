package io.braid.pubsub.internal;

import io.braid.api.BraidException;
import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.api.DeadLetter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** One topic of an {@link InMemoryPubsub}: publishes to and subscribes on the shared log. */
final class InMemoryTopic extends CheckedTopic {
    private final InMemoryPubsub pubsub;
    private final InMemoryTopicLog log;

    InMemoryTopic(InMemoryPubsub pubsub, InMemoryTopicLog log) {
        super(pubsub.maxBodyBytes);
        this.pubsub = pubsub;
        this.log = log;
    }

    @Override
    public String name() {
        return log.topic();
    }

    @Override
    CompletableFuture<String> append(byte[] body, Map<String, String> headers) {
        if (pubsub.isClosed()) {
            // As a closed RedisPubsub's connection answers.
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "pubsub is closed"));
        }
        String id = log.append(Map.copyOf(headers), body.clone());
        pubsub.listener.published(log.topic());
        return CompletableFuture.completedFuture(id);
    }

    @Override
    Channel open(String channel, ChannelOptions options) {
        pubsub.requireOpen();
        InMemoryChannel consumer = new InMemoryChannel(pubsub, log, channel, options);
        pubsub.channels.add(consumer);
        return consumer;
    }

    @Override
    CompletableFuture<List<DeadLetter>> readDeadLetters(int limit) {
        return CompletableFuture.completedFuture(log.deadLetters(limit));
    }

    @Override
    CompletableFuture<Integer> replay(int limit) {
        return CompletableFuture.completedFuture(log.replayDeadLetters(limit, RedisTopic.REPLAY_OF));
    }

    @Override
    public String toString() {
        return "InMemoryTopic{" + log.topic() + "}";
    }
}
