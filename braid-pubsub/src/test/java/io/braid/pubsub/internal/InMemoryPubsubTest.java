package io.braid.pubsub.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Pubsub;
import io.braid.api.Topic;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The contract on the in-memory pubsub: members are instances sharing one {@link InMemoryStreams}. */
class InMemoryPubsubTest extends PubsubContract {
    private final InMemoryStreams streams = new InMemoryStreams();
    private final AtomicInteger members = new AtomicInteger();
    private volatile InMemoryPubsub trimmer;

    @Override
    protected Pubsub newMember() {
        return new InMemoryPubsub(streams, "member-" + members.incrementAndGet());
    }

    @Override
    protected long trim() {
        if (trimmer == null) {
            trimmer = (InMemoryPubsub) member(); // one member trims, as the runtime's leader does
        }
        return trimmer.trim();
    }

    @Override
    protected long pendingCount(String topic, String channel) {
        return streams.pendingCount(topic, channel);
    }

    @Override
    protected Set<String> channels(String topic) {
        return streams.channels(topic);
    }

    @Override
    protected long storedCount(String topic) {
        return streams.size(topic);
    }

    @Override
    protected long takenBound(int concurrency) {
        return concurrency; // a consumer takes a message only into a free handler slot
    }

    @Override
    protected void assertNothingLeftBehind() {
        assertThat(streams.consumerCount()).as("consumers still joined after every member closed").isZero();
    }

    @Test
    void aFailedMessageIsRedeliveredOnceRedeliverAfterHasPassedOnTheTickerAndNotANanosecondEarlier() throws Exception {
        java.util.concurrent.atomic.AtomicLong ticker = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE - 10);
        InMemoryStreams timed = new InMemoryStreams(ticker::get);
        java.time.Duration redeliverAfter = java.time.Duration.ofHours(1);
        try (InMemoryPubsub pubsub = new InMemoryPubsub(timed, "timed")) {
            java.util.concurrent.BlockingQueue<io.braid.api.Message> deliveries =
                    new java.util.concurrent.LinkedBlockingQueue<>();
            Topic topic = pubsub.topic("orders");
            topic.subscribe("audit", io.braid.api.ChannelOptions.DEFAULT.withConcurrency(1)
                    .withRedeliverAfter(redeliverAfter)).onMessage(message -> {
                        deliveries.add(message);
                        if (message.deliveryCount() == 1 && new String(message.body()).equals("fails once")) {
                            throw new IllegalStateException("fails once");
                        }
                    });
            topic.publish("fails once".getBytes()).get();
            io.braid.api.Message first = deliveries.poll(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(first).isNotNull();

            ticker.addAndGet(redeliverAfter.toNanos() - 1);
            timed.tickerMoved();
            topic.publish("marker".getBytes()).get();
            // A stale message is claimed before any new one: the marker first shows that the failed one is not stale yet.
            io.braid.api.Message next = deliveries.poll(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(next).isNotNull();
            assertThat(new String(next.body())).isEqualTo("marker");

            ticker.incrementAndGet();
            timed.tickerMoved();

            io.braid.api.Message again = deliveries.poll(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(again).isNotNull();
            assertThat(again.id()).isEqualTo(first.id());
            assertThat(again.deliveryCount()).isEqualTo(2);
        }
    }

    @Test
    void separateStreamsAreSeparateClusters() {
        InMemoryStreams other = new InMemoryStreams();
        try (InMemoryPubsub elsewhere = new InMemoryPubsub(other, "elsewhere")) {
            Received received = new Received();
            elsewhere.topic("news").subscribe("reader").onMessage(received);
            Topic here = member().topic("news");
            Received local = new Received();
            here.subscribe("reader").onMessage(local);

            publish(here, "here");
            publish(elsewhere.topic("news"), "there");

            until("each cluster's message", () -> local.size() == 1 && received.size() == 1);
            assertThat(local.texts()).containsExactly("here");
            assertThat(received.texts()).containsExactly("there");
        }
    }

    @Test
    void aChannelWithoutAHandlerKeepsItsMessagesUntilOneIsSet() {
        Topic topic = member().topic("late-handler");
        var channel = topic.subscribe("reader");
        publishAll(topic, "x", 5);
        assertThat(pendingCount("late-handler", "reader")).isZero();

        Received received = new Received();
        channel.onMessage(received);

        until("five messages", () -> received.size() == 5);
        assertThat(received.texts()).isEqualTo(bodies("x", 5));
    }

    @Test
    void constructorArgumentsAreChecked() {
        assertThatThrownBy(() -> new InMemoryPubsub(null, "n1")).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("streams");
        assertThatThrownBy(() -> new InMemoryPubsub(streams, " ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("consumerName");
        assertThatThrownBy(() -> new InMemoryPubsub(streams, "n1", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBodyBytes");
    }
}
