package io.braid.api.internal;

import java.util.List;
import java.util.Objects;

/**
 * What one topic holds right now, as {@link PubsubStats#topicStats()} reads it.
 *
 * @param topic       the topic's name
 * @param length      messages the topic holds (published and not trimmed)
 * @param deadLetters messages in the topic's dead letters
 * @param channels    its channels, by name
 */
public record TopicStats(String topic, long length, long deadLetters, List<ChannelStats> channels) {
    public TopicStats {
        Objects.requireNonNull(topic, "topic");
        channels = List.copyOf(channels);
    }

    /**
     * One channel (consumer group) of a topic.
     *
     * @param channel   the channel's name
     * @param consumers consumers joined to it (on Redis: consumers that have read from it at least
     *                  once, as XINFO GROUPS counts them)
     * @param backlog   messages published to the topic that no consumer of the channel has taken yet;
     *                  -1 when the store cannot tell (Redis before 7.0)
     * @param pending   messages handed to a consumer and not acknowledged yet
     */
    public record ChannelStats(String channel, int consumers, long backlog, long pending) {
        public ChannelStats {
            Objects.requireNonNull(channel, "channel");
        }
    }
}
