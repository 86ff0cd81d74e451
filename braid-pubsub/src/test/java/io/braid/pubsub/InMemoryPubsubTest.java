package io.braid.pubsub;

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
