package io.braid.pubsub.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.Pubsub;
import io.braid.api.internal.PubsubListener;
import io.braid.api.internal.PubsubStats;
import io.braid.api.internal.TopicStats;
import io.braid.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a pub-sub tells its {@link PubsubListener} and its {@link PubsubStats}, for the monitor:
 * run on every store.
 */
abstract class PubsubListenerContract {
    static final Duration WAIT = Duration.ofSeconds(15);

    /** Counts events by "event topic/channel". */
    static final class Counting implements PubsubListener {
        final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

        int get(String key) {
            AtomicInteger count = counts.get(key);
            return count == null ? 0 : count.get();
        }

        private void add(String key) {
            counts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void published(String topic) {
            add("published " + topic);
        }

        @Override
        public void delivered(String topic, String channel) {
            add("delivered " + topic + "/" + channel);
        }

        @Override
        public void redelivered(String topic, String channel) {
            add("redelivered " + topic + "/" + channel);
        }

        @Override
        public void deadLettered(String topic, String channel) {
            add("deadLettered " + topic + "/" + channel);
        }
    }

    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    /** A new member of the shared store, telling {@code listener}. */
    protected abstract Pubsub member(PubsubListener listener);

    <T extends AutoCloseable> T adopt(T closeable) {
        closeAfter.add(closeable);
        return closeable;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            closeAfter.get(i).close();
        }
    }

    @Test
    void theListenerHearsPublishesDeliveriesRedeliveriesAndDeadLetters() {
        Counting publisherHears = new Counting();
        Counting consumerHears = new Counting();
        Pubsub publisher = member(publisherHears);
        Pubsub consumer = member(consumerHears);
        AtomicInteger handled = new AtomicInteger();
        Channel ok = adopt(consumer.topic("heard").subscribe("ok"));
        ok.onMessage(message -> handled.incrementAndGet());
        Channel flaky = adopt(consumer.topic("heard").subscribe("flaky", ChannelOptions.DEFAULT
                .withRedeliverAfter(Duration.ofMillis(50)).withMaxDeliveries(2)));
        flaky.onMessage(message -> {
            throw new IllegalStateException("no");
        });
        for (int i = 0; i < 3; i++) {
            publisher.topic("heard").publish(("m" + i).getBytes(StandardCharsets.UTF_8)).join();
        }
        assertThat(publisherHears.get("published heard")).isEqualTo(3);
        assertThat(consumerHears.get("published heard")).isZero();
        Await.until(WAIT, "three dead letters", () -> consumerHears.get("deadLettered heard/flaky") == 3);
        assertThat(consumerHears.get("delivered heard/ok")).isEqualTo(3);
        assertThat(handled.get()).isEqualTo(3);
        assertThat(consumerHears.get("delivered heard/flaky")).isEqualTo(3);
        assertThat(consumerHears.get("redelivered heard/flaky")).isEqualTo(3);
        assertThat(consumerHears.get("redelivered heard/ok")).isZero();
        assertThat(publisherHears.counts.keySet()).containsExactly("published heard");
    }

    @Test
    void statsShowEachChannelsBacklogPendingAndTheDeadLetters() {
        Pubsub member = member(PubsubListener.NONE);
        assertThat(member).isInstanceOf(PubsubStats.class);
        adopt(member.topic("figures").subscribe("idle")); // joined, never reads: all backlog
        Channel stuck = adopt(member.topic("figures").subscribe("stuck",
                ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMinutes(5))));
        AtomicInteger failures = new AtomicInteger();
        stuck.onMessage(message -> {
            failures.incrementAndGet();
            throw new IllegalStateException("stuck");
        });
        Channel doomed = adopt(member.topic("figures").subscribe("doomed",
                ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMillis(20)).withMaxDeliveries(1)));
        doomed.onMessage(message -> {
            throw new IllegalStateException("doomed");
        });
        for (int i = 0; i < 4; i++) {
            member.topic("figures").publish(("m" + i).getBytes(StandardCharsets.UTF_8)).join();
        }
        Await.until(WAIT, "the figures", () -> {
            TopicStats topic = figures((PubsubStats) member);
            return topic.deadLetters() == 4 && channel(topic, "stuck").pending() == 4;
        });
        TopicStats topic = figures((PubsubStats) member);
        assertThat(topic.length()).isEqualTo(4);
        assertThat(topic.channels()).extracting(TopicStats.ChannelStats::channel).containsExactly("doomed", "idle", "stuck");
        assertThat(channel(topic, "idle").backlog()).isEqualTo(4);
        assertThat(channel(topic, "idle").pending()).isZero();
        assertThat(channel(topic, "stuck").backlog()).isZero();
        assertThat(channel(topic, "stuck").consumers()).isEqualTo(1);
        assertThat(channel(topic, "doomed").backlog()).isZero();
        assertThat(channel(topic, "doomed").pending()).isZero();
    }

    private static TopicStats figures(PubsubStats stats) {
        return stats.topicStats().join().stream().filter(t -> t.topic().equals("figures")).findFirst().orElseThrow();
    }

    private static TopicStats.ChannelStats channel(TopicStats topic, String name) {
        return topic.channels().stream().filter(c -> c.channel().equals(name)).findFirst().orElseThrow();
    }
}
