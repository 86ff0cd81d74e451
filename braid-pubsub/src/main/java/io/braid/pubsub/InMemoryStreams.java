package io.braid.pubsub;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics of one in-memory cluster: what Redis holds for {@link RedisPubsub}, kept in this JVM.
 * Every {@link InMemoryPubsub} made from the same instance sees the same topics, channels, pending
 * messages and dead letters, as the processes of one cluster see the same Redis. Nothing survives
 * the JVM. Thread-safe; holds no threads, so it needs no closing.
 */
public final class InMemoryStreams {
    private final Map<String, InMemoryTopicLog> topics = new ConcurrentHashMap<>();

    /** The log of {@code topic} (an already validated name), made on first use. */
    InMemoryTopicLog log(String topic) {
        return topics.computeIfAbsent(topic, InMemoryTopicLog::new);
    }

    /**
     * Cuts every topic below what its slowest channel still needs: the oldest pending message of
     * any channel, or the first message a channel has not been given yet. Topics without channels
     * are left alone. As {@link RedisPubsub#trim()}, safe to run anywhere, any number of times.
     *
     * @return how many messages were removed
     */
    public long trim() {
        long removed = 0;
        for (InMemoryTopicLog log : topics.values()) {
            removed += log.trim();
        }
        return removed;
    }

    /** Messages of {@code channel} handed out and not acknowledged (Redis' XPENDING count). */
    int pendingCount(String topic, String channel) {
        InMemoryTopicLog log = topics.get(topic);
        return log == null ? 0 : log.pendingCount(channel);
    }

    /** The channels {@code topic} has now (Redis' consumer groups). */
    Set<String> channels(String topic) {
        InMemoryTopicLog log = topics.get(topic);
        return log == null ? Set.of() : log.channels();
    }

    /** Consumers joined to any channel of any topic: 0 once every member is closed. */
    int consumerCount() {
        int count = 0;
        for (InMemoryTopicLog log : topics.values()) {
            count += log.consumerCount();
        }
        return count;
    }

    /** The figures of every topic, sorted by name. */
    java.util.List<TopicStats> stats() {
        java.util.List<TopicStats> stats = new java.util.ArrayList<>();
        for (InMemoryTopicLog log : new java.util.TreeMap<>(topics).values()) {
            stats.add(log.stats());
        }
        return stats;
    }

    /** Messages {@code topic} holds (Redis' XLEN). */
    int size(String topic) {
        InMemoryTopicLog log = topics.get(topic);
        return log == null ? 0 : log.size();
    }
}
