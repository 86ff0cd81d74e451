package io.braid.pubsub;

import io.braid.api.BraidException;
import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.api.DeadLetter;
import io.braid.api.Topic;
import java.util.List;
import java.util.Map;
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
        BraidException refused = Names.refusal(body, headers, pubsub.maxBodyBytes);
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        if (pubsub.isClosed()) {
            // As a closed RedisPubsub's connection answers.
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "pubsub is closed"));
        }
        String id = log.append(Map.copyOf(headers), body.clone());
        pubsub.listener.published(log.topic());
        return CompletableFuture.completedFuture(id);
    }

    @Override
    public Channel subscribe(String channel, ChannelOptions options) {
        String checked = Names.channel(channel);
        Names.required(options, "options");
        pubsub.requireOpen();
        InMemoryChannel consumer = new InMemoryChannel(pubsub, log, checked, options);
        pubsub.channels.add(consumer);
        return consumer;
    }

    @Override
    public CompletableFuture<List<DeadLetter>> deadLetters(int limit) {
        BraidException refused = Names.limitRefusal(limit);
        return refused != null ? CompletableFuture.failedFuture(refused)
                : CompletableFuture.completedFuture(log.deadLetters(limit));
    }

    @Override
    public CompletableFuture<Integer> replayDeadLetters(int limit) {
        BraidException refused = Names.limitRefusal(limit);
        return refused != null ? CompletableFuture.failedFuture(refused)
                : CompletableFuture.completedFuture(log.replayDeadLetters(limit, RedisTopic.REPLAY_OF));
    }

    @Override
    public String toString() {
        return "InMemoryTopic{" + log.topic() + "}";
    }
}
