package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.internal.TimelineEvent;
import io.braid.api.internal.TimelineEvent.Kind;
import io.braid.pubsub.internal.InMemoryPubsub;
import io.braid.pubsub.internal.InMemoryStreams;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ClusterTimeline} on its own, over a real in-memory pub-sub: Redis lost and back told once
 * each with the outage's length; a round of hand-overs told at its start, at each quarter and at its
 * end (a drain's later rounds only when they move someone); the ring bounded; and a follower keeps
 * what another node publishes, once however often it hears it.
 */
class ClusterTimelineTest {
    private static final Duration WINDOW = Duration.ofMillis(600);

    private final InMemoryStreams streams = new InMemoryStreams();
    private final InMemoryPubsub pubsubA = new InMemoryPubsub(streams, "a");
    private final InMemoryPubsub pubsubB = new InMemoryPubsub(streams, "b");
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final ClusterTimeline a = new ClusterTimeline("logic-a", "logic", new ClusterEvents(pubsubA), WINDOW, clock::get);
    private final ClusterTimeline b = new ClusterTimeline("logic-b", "logic", new ClusterEvents(pubsubB), WINDOW, clock::get);

    @AfterEach
    void close() {
        b.close();
        a.close();
        pubsubB.close();
        pubsubA.close();
    }

    private static List<String> kinds(List<TimelineEvent> events) {
        return events.stream().map(e -> e.kind() + (e.fields().containsKey("phase") ? " " + e.fields().get("phase") : ""))
                .toList();
    }

    @Test
    void redisLostAndBackAreToldOnceEachWithTheOutagesLength() {
        a.registrationAge(Duration.ZERO);
        a.registrationAge(WINDOW.minusMillis(1));
        assertThat(a.since(0)).isEmpty();
        a.registrationAge(WINDOW);
        clock.addAndGet(500);
        a.registrationAge(WINDOW.plusMillis(500));
        assertThat(kinds(a.since(0))).containsExactly("REDIS_DOWN");
        assertThat(a.since(0).getFirst().fields()).containsEntry("sinceConfirmedMs", "600");
        clock.addAndGet(700);
        a.registrationAge(Duration.ofMillis(50));
        a.registrationAge(Duration.ZERO);
        assertThat(kinds(a.since(0))).containsExactly("REDIS_DOWN", "REDIS_BACK");
        assertThat(a.since(0).getLast().fields()).containsEntry("downMs", String.valueOf(600 + 500 + 700));
        assertThat(a.since(0)).extracting(TimelineEvent::seq).containsExactly(1L, 2L);
    }

    @Test
    void aRoundOfHandoversIsToldAtItsStartEachQuarterAndItsEnd() {
        ClusterTimeline.HandoffRound round = a.handoffRound("drain", 8);
        for (int i = 0; i < 8; i++) {
            round.finished(i != 5);
        }
        List<TimelineEvent> events = a.since(0);
        assertThat(kinds(events)).containsExactly("HANDOFFS started", "HANDOFFS progress", "HANDOFFS progress",
                "HANDOFFS progress", "HANDOFFS done");
        assertThat(events).extracting(e -> e.fields().get("finished")).containsExactly("0", "2", "4", "6", "8");
        assertThat(events.getLast().fields()).containsEntry("handedOver", "7").containsEntry("of", "8");
        assertThat(events.getLast().text()).isEqualTo("logic-a handed over 7 of 8 players (drain); 1 stayed");

        ClusterTimeline.HandoffRound retry = a.handoffRound(ClusterTimeline.DRAIN_RETRY, 5);
        for (int i = 0; i < 5; i++) {
            retry.finished(false);
        }
        assertThat(a.since(0)).as("a later round that moved no one is not told").hasSize(5);
        ClusterTimeline.HandoffRound moving = a.handoffRound(ClusterTimeline.DRAIN_RETRY, 2);
        moving.finished(true);
        moving.finished(false);
        assertThat(kinds(a.since(0))).hasSize(6).endsWith("HANDOFFS done");
        assertThat(a.since(0).getLast().fields()).containsEntry("reason", "drain").containsEntry("handedOver", "1");
    }

    @Test
    void theRingKeepsTheNewestEvents() {
        for (int i = 0; i < ClusterTimeline.CAPACITY + 10; i++) {
            clock.incrementAndGet();
            a.record(Kind.REBALANCE, "round " + i, Map.of());
        }
        List<TimelineEvent> kept = a.since(0);
        assertThat(kept).hasSize(ClusterTimeline.CAPACITY);
        assertThat(kept.getFirst().text()).isEqualTo("round 10");
        assertThat(a.since(kept.getLast().atMillis())).hasSize(1);
    }

    @Test
    void aFollowerKeepsWhatAnotherNodePublishesOnce() {
        a.follow(pubsubA);
        b.leader(7);
        b.drainStarted(Duration.ofSeconds(30));
        Await.until(Duration.ofSeconds(5), "logic-a heard logic-b", () -> a.since(0).size() == 2);
        TimelineEvent heard = a.since(0).getFirst();
        assertThat(heard.node()).isEqualTo("logic-b");
        assertThat(heard.kind()).isEqualTo(Kind.LEADER);
        assertThat(heard.fields()).containsEntry("epoch", "7").containsEntry("service", "logic");
        assertThat(heard.text()).isEqualTo("logic-b leads logic (epoch 7)");
        assertThat(heard).isEqualTo(b.since(0).getFirst());
        // The same event again (a redelivery) is kept once.
        new ClusterEvents(pubsubB).timeline(heard);
        b.record(Kind.FENCE_OPENED, "after", Map.of()); // behind the copy on the same topic, in order
        Await.until(Duration.ofSeconds(5), "logic-a heard the event after the copy",
                () -> a.since(0).stream().anyMatch(e -> e.text().equals("after")));
        assertThat(a.since(0)).extracting(TimelineEvent::text).as("the copy kept once")
                .containsExactly("logic-b leads logic (epoch 7)", "logic-b started draining (up to 30 s)", "after");
        assertThat(ClusterEvents.timelineEvent("not json".getBytes(java.nio.charset.StandardCharsets.UTF_8))).isNull();
    }
    /**
     * The timeline wraps the node's player meters; a listener method it did not pass on would fall
     * to the interface's empty default and be lost (the hand-over spans once were). Every method of
     * PlayerListener, called on the wrapper, reaches the wrapped listener.
     */
    @Test
    void theListenerItWrapsHearsEveryPlayerListenerMethod() throws Exception {
        List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.braid.api.internal.PlayerListener meters = (io.braid.api.internal.PlayerListener) java.lang.reflect.Proxy
                .newProxyInstance(getClass().getClassLoader(), new Class<?>[] {io.braid.api.internal.PlayerListener.class},
                        (proxy, method, args) -> {
                            heard.add(method.getName());
                            return null;
                        });
        io.braid.api.internal.PlayerListener wrapper = a.listening(meters);
        List<String> all = new java.util.ArrayList<>();
        for (java.lang.reflect.Method method : io.braid.api.internal.PlayerListener.class.getMethods()) {
            if (java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            Object[] args = java.util.Arrays.stream(method.getParameterTypes()).map(ClusterTimelineTest::anyOf).toArray();
            method.invoke(wrapper, args);
            all.add(method.getName());
        }
        assertThat(all).isNotEmpty();
        assertThat(heard).containsExactlyInAnyOrderElementsOf(all);
    }

    private static Object anyOf(Class<?> type) {
        if (type == long.class) {
            return 1L;
        }
        if (type == int.class) {
            return 1;
        }
        if (type == boolean.class) {
            return true;
        }
        if (type == String.class) {
            return "player-1";
        }
        if (type == Duration.class) {
            return Duration.ZERO;
        }
        if (type == java.util.function.BooleanSupplier.class) {
            return (java.util.function.BooleanSupplier) () -> true;
        }
        if (type.isEnum()) {
            return type.getEnumConstants()[0];
        }
        return null;
    }
}
