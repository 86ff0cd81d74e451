package io.braid.pubsub.internal;

import io.braid.api.Ticker;
import io.braid.api.internal.TopicStats;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics of one in-memory cluster: what Redis holds for {@link RedisPubsub}, kept in this JVM.
 * Every {@link InMemoryPubsub} made from the same instance sees the same topics, channels, pending
 * messages and dead letters, as the processes of one cluster see the same Redis. Nothing survives
 * the JVM. Thread-safe; holds no threads, so it needs no closing.
 *
 * <p>Time: when a pending message is stale (pending longer than its channel's
 * {@code redeliverAfter}) is judged on one {@link Ticker} for the whole cluster, as Redis judges it
 * on its own clock for every process.
 */
public final class InMemoryStreams {
    private final Map<String, InMemoryTopicLog> topics = new ConcurrentHashMap<>();
    private final Ticker ticker;

    /** Topics whose redelivery is timed on {@link Ticker#system()}. */
    public InMemoryStreams() {
        this(Ticker.system());
    }

    /** Topics whose redelivery is timed on {@code ticker}, which tests move by hand. */
    public InMemoryStreams(Ticker ticker) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    /** The log of {@code topic} (an already validated name), made on first use. */
    InMemoryTopicLog log(String topic) {
        return topics.computeIfAbsent(topic, name -> new InMemoryTopicLog(name, ticker));
    }

    /**
     * Tells every waiting consumer that the ticker moved, so that a message now stale is claimed
     * at once rather than when its wait (on real time) ends. For tests that move the ticker.
     */
    void tickerMoved() {
        for (InMemoryTopicLog log : topics.values()) {
            log.wakeEveryChannel();
        }
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
