package io.braid.pubsub.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.api.Message;
import io.braid.api.Pubsub;
import io.braid.api.Topic;
import io.braid.api.internal.PubsubListener;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The contract on one redis-server, plus what only a real Redis can show: a restart of Redis under
 * a subscribed consumer, a consumer process killed with SIGKILL, an at-least-once soak through both,
 * and end-to-end throughput.
 */
class RedisPubsubTest extends RedisPubsubContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();
    /** appendonly yes, appendfsync always: a kill and restart loses nothing acknowledged. */
    @RegisterExtension
    static final RedisExtension durableRedis = RedisExtension.single(RedisServer.builder().appendOnly(true));

    private final AtomicInteger durableMembers = new AtomicInteger();

    @BeforeEach
    void emptyRedis() {
        for (RedisServer server : List.of(redis.server(), durableRedis.server())) {
            if (!server.isRunning()) {
                server.restart();
            }
            try (RedisProbe probe = server.probe()) {
                probe.command("FLUSHALL");
            }
        }
    }

    @Override
    protected RedisConnector connect() {
        return RedisConnector.connect(redis.server().uri());
    }

    @Override
    protected String childUri() {
        return redis.server().uri();
    }

    @Override
    protected List<RedisServer> servers() {
        return List.of(redis.server(), durableRedis.server());
    }

    /** A member on the append-only server. */
    private Pubsub durableMember() {
        RedisConnector connector = closeAfterMembers(RedisConnector.connect(durableRedis.server().uri()));
        return adopt(RedisPubsub.builder(connector).consumerName("durable-" + durableMembers.incrementAndGet())
                .batchSize(BATCH_SIZE).build());
    }

    @Test
    void aBuilderChangedAfterBuildChangesNothingBuilt() throws Exception {
        RedisConnector connector = closeAfterMembers(connect());
        List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        RedisPubsub.Builder builder = RedisPubsub.builder(connector).consumerName("first").maxBodyBytes(100);
        Pubsub pubsub = adopt(builder.build());
        // Were any of these read now, the 200-byte body below would pass and be heard, and the consumer renamed.
        builder.maxBodyBytes(1_000_000).listener(new PubsubListener() {
            @Override
            public void published(String topic) {
                heard.add(topic);
            }
        }).consumerName("second").batchSize(1);
        Topic topic = pubsub.topic("orders");

        assertThatThrownBy(() -> topic.publish(new byte[200]).get(5, TimeUnit.SECONDS))
                .satisfies(e -> assertThat(e.getCause()).isInstanceOfSatisfying(BraidException.class,
                        refused -> assertThat(refused.code()).isEqualTo(Code.RESOURCE_EXHAUSTED)));
        topic.publish(new byte[50]).get(5, TimeUnit.SECONDS);
        try (io.braid.api.Channel channel = topic.subscribe("audit")) {
            assertThat(channel.toString()).contains("as first-");
        }
        assertThat(heard).isEmpty();
    }

    @Test
    void theEphemeralHeartbeatRunsOnABorrowedSchedulerAndLeavesItToItsOwner() throws Exception {
        java.util.concurrent.ScheduledExecutorService scheduler = java.util.concurrent.Executors.newScheduledThreadPool(1);
        try {
            RedisConnector connector = closeAfterMembers(connect());
            RedisPubsub pubsub = RedisPubsub.builder(connector).consumerName("beating")
                    .ephemeralIdleLimit(Duration.ofSeconds(1)).scheduler(scheduler).build();
            io.braid.api.Channel channel = pubsub.topic("presence").subscribe("here",
                    ChannelOptions.DEFAULT.withDurable(false));
            try (RedisProbe probe = redis.server().probe()) {
                String firstMark = String.valueOf(probe.command("HGET", RedisPubsub.ephemeralKey("presence"), "here"));
                // Marked again every quarter of the idle limit, on the borrowed scheduler's thread.
                Await.until(Duration.ofSeconds(5), "a later mark",
                        () -> !firstMark.equals(String.valueOf(probe.command("HGET", RedisPubsub.ephemeralKey("presence"), "here"))));
            }
            channel.close();
            pubsub.close();
            assertThat(scheduler.isShutdown()).isFalse();
            assertThat(scheduler.submit(() -> "still runs").get(5, TimeUnit.SECONDS)).isEqualTo("still runs");
        } finally {
            scheduler.shutdownNow();
        }
    }

    @Test
    void aConsumerKeepsReceivingAfterRedisIsKilledAndRestarted() {
        Topic topic = durableMember().topic("events");
        Received received = new Received();
        topic.subscribe("log").onMessage(received);
        publishAll(topic, "before-", 50);
        until("the messages before the crash", () -> received.distinctTexts().size() == 50);

        durableRedis.server().kill();
        assertThatThrownBy(() -> publish(topic, "while-down")).isInstanceOfSatisfying(BraidException.class,
                e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE));
        durableRedis.server().restart();
        Await.until(PubsubContract.WAIT, "a publish after the restart", () -> tryPublish(topic, "after-0"));
        for (int i = 1; i < 50; i++) {
            publish(topic, "after-" + i);
        }

        until("the messages after the restart", () -> received.distinctTexts().containsAll(bodies("after-", 50)));
        assertThat(received.distinctTexts()).containsAll(bodies("before-", 50)).doesNotContain("while-down");
    }

    @Test
    void messagesOfAKilledConsumerProcessGoToAnotherConsumerAfterRedeliverAfter() throws Exception {
        Set<String> heldByChild = ConcurrentHashMap.newKeySet();
        try (ChildConsumer child = ChildConsumer.start(redis.server().uri(), "work", "crew", 5, "hold",
                line -> heldByChild.add(line.substring("GOT ".length())))) {
            Topic topic = member().topic("work");
            List<String> ids = publishAll(topic, "w", 5);
            until("the child holds all five", () -> heldByChild.size() == 5);
            assertThat(heldByChild).containsExactlyInAnyOrderElementsOf(ids);

            child.kill();
            assertThat(pendingCount("work", "crew")).isEqualTo(5);

            Received rescuer = new Received();
            long start = System.nanoTime();
            member().topic("work").subscribe("crew", ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMillis(500)))
                    .onMessage(rescuer);
            until("another consumer gets the five", () -> rescuer.size() >= 5);
            System.out.printf("a killed consumer's messages were redelivered after %.0f ms (redeliverAfter 500 ms)%n",
                    (System.nanoTime() - start) / 1e6);
            assertThat(rescuer.messages).extracting(Message::id).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(rescuer.messages).extracting(Message::deliveryCount).containsOnly(2);
            until("all acknowledged", () -> pendingCount("work", "crew") == 0);
        }
    }

    /**
     * At least once, end to end: two consumers (one in a child JVM) share a channel while messages
     * are published; a third of the way in the child is killed with SIGKILL, two thirds in Redis
     * (append-only, fsync always) is killed and restarted. Every message must be handled at least
     * once; duplicates are expected (messages the child handled but did not get to acknowledge,
     * publishes retried after Redis went away) and are counted.
     */
    @Test
    void soakEveryMessageIsHandledAtLeastOnceThroughAConsumerCrashAndARedisRestart() throws Exception {
        int total = 100_000;
        int window = PUBLISH_WINDOW;
        AtomicIntegerArray bySurvivor = new AtomicIntegerArray(total);
        AtomicIntegerArray byChild = new AtomicIntegerArray(total);
        AtomicInteger redelivered = new AtomicInteger();
        long start = System.nanoTime();
        try (ChildConsumer child = ChildConsumer.start(durableRedis.server().uri(), "soak", "workers", 32, "ack",
                line -> countNumbered(byChild, line.substring("H ".length())))) {
            ChannelOptions options = ChannelOptions.DEFAULT.withConcurrency(32).withRedeliverAfter(Duration.ofSeconds(2));
            durableMember().topic("soak").subscribe("workers", options)
                    .onMessage(message -> {
                        countNumbered(bySurvivor, text(message));
                        if (message.deliveryCount() > 1) {
                            redelivered.incrementAndGet();
                        }
                    });
            Topic topic = durableMember().topic("soak");

            int retriedPublishes = 0;
            boolean childKilled = false;
            boolean redisRestarted = false;
            for (int from = 0; from < total; from += window) {
                if (!childKilled && from >= total / 3) {
                    child.kill();
                    childKilled = true;
                    System.out.printf("soak: child consumer killed after %d published (%d handled by it)%n", from,
                            sum(byChild));
                }
                if (!redisRestarted && from >= 2 * total / 3) {
                    durableRedis.server().kill();
                    durableRedis.server().restart();
                    redisRestarted = true;
                    System.out.printf("soak: Redis killed and restarted after %d published%n", from);
                }
                retriedPublishes += publishWindow(topic, from, Math.min(total, from + window));
            }
            double publishSeconds = (System.nanoTime() - start) / 1e9;

            Await.until(Duration.ofSeconds(45), () -> "every message handled; missing " + missing(bySurvivor, byChild, total),
                    () -> missing(bySurvivor, byChild, total).isEmpty());
            double seconds = (System.nanoTime() - start) / 1e9;
            long handlings = sum(bySurvivor) + sum(byChild);
            long handledTwiceOrMore = 0;
            for (int i = 0; i < total; i++) {
                if (bySurvivor.get(i) + byChild.get(i) > 1) {
                    handledTwiceOrMore++;
                }
            }
            System.out.printf("soak: %d messages, all handled at least once in %.1f s (published in %.1f s); "
                            + "survivor %d, child %d handlings; %d duplicate handlings over %d messages; "
                            + "%d redeliveries to the survivor; %d publishes retried%n", total, seconds, publishSeconds,
                    sum(bySurvivor), sum(byChild), handlings - total, handledTwiceOrMore, redelivered.get(),
                    retriedPublishes);
            assertThat(childKilled).isTrue();
            assertThat(redisRestarted).isTrue();
            assertThat(sum(byChild)).as("handled by the child before it was killed").isPositive();
            assertThat(child.otherLines()).as("the child's reports all understood").noneMatch(l -> l.startsWith("listener failed"));
            assertThat(handlings).isGreaterThanOrEqualTo(total);
        }
    }

    /** Counts a handling of {@code s<number>}; the probes sent while Redis was away are not counted. */
    private static void countNumbered(AtomicIntegerArray counts, String body) {
        if (body.startsWith("s")) {
            counts.incrementAndGet(Integer.parseInt(body.substring(1)));
        }
    }

    /** Publishes s{from}..s{to-1} pipelined, retrying the ones that fail; returns how many were retried. */
    private static int publishWindow(Topic topic, int from, int to) {
        List<Integer> todo = new ArrayList<>();
        for (int i = from; i < to; i++) {
            todo.add(i);
        }
        int retried = 0;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!todo.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(todo.size() + " messages could not be published");
            }
            List<CompletableFuture<String>> sent = new ArrayList<>(todo.size());
            for (int i : todo) {
                sent.add(topic.publish(bytes("s" + i)));
            }
            List<Integer> failed = new ArrayList<>();
            for (int k = 0; k < sent.size(); k++) {
                try {
                    sent.get(k).get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    failed.add(todo.get(k));
                }
            }
            if (!failed.isEmpty()) {
                retried += failed.size();
                // Wait for Redis to answer again before resending the window's failures.
                Await.until(WAIT, "Redis to take publishes again", () -> tryPublish(topic, "probe"));
            }
            todo = failed;
        }
        return retried;
    }

    private static boolean tryPublish(Topic topic, String body) {
        try {
            topic.publish(bytes(body)).get(2, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static long sum(AtomicIntegerArray counts) {
        long sum = 0;
        for (int i = 0; i < counts.length(); i++) {
            sum += counts.get(i);
        }
        return sum;
    }

    private static List<Integer> missing(AtomicIntegerArray a, AtomicIntegerArray b, int total) {
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < total && missing.size() < 20; i++) {
            if (a.get(i) + b.get(i) == 0) {
                missing.add(i);
            }
        }
        return missing;
    }

    @Test
    void settingsOutOfRangeAreRefusedNamingTheSetting() {
        try (RedisConnector connector = RedisConnector.connect(redis.server().uri())) {
            RedisPubsub.Builder builder = RedisPubsub.builder(connector);
            assertThatThrownBy(() -> builder.ephemeralIdleLimit(Duration.ofMillis(999)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ephemeralIdleLimit")
                    .hasMessageContaining("1s..1d");
            assertThatThrownBy(() -> builder.ephemeralIdleLimit(Duration.ofDays(2)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ephemeralIdleLimit");
            assertThatThrownBy(() -> builder.ephemeralIdleLimit(null)).hasMessageContaining("ephemeralIdleLimit");
            assertThatThrownBy(() -> builder.batchSize(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("batchSize");
            builder.ephemeralIdleLimit(Duration.ofSeconds(1)).ephemeralIdleLimit(Duration.ofDays(1));
        }
    }

    /** A topic whose trim fails (here: its key holds a string) is skipped; every other topic is still trimmed. */
    @Test
    void aTopicThatCannotBeTrimmedDoesNotStopTheOthers() {
        try (RedisProbe probe = redis.server().probe()) {
            for (int i = 0; i < 5; i++) {
                probe.command("SADD", RedisPubsub.TOPICS_KEY, "broken-" + i);
                probe.command("SET", RedisPubsub.streamKey("broken-" + i), "not a stream");
            }
        }
        Pubsub member = member();
        for (int i = 0; i < 5; i++) {
            Topic topic = member.topic("whole-" + i);
            topic.subscribe("reader").onMessage(new Received());
            publishAll(topic, "w", 3);
        }
        for (int i = 0; i < 5; i++) {
            String name = "whole-" + i;
            until("the messages of " + name + " acknowledged", () -> pendingCount(name, "reader") == 0
                    && storedCount(name) == 3);
        }

        assertThat(trim()).as("messages trimmed from the five whole topics").isEqualTo(15);
        for (int i = 0; i < 5; i++) {
            assertThat(storedCount("whole-" + i)).isZero();
        }
    }

    /**
     * One XACK in flight at a time: the first handler pauses Redis, so the first message's XACK
     * waits in the socket while the other 63 of the batch finish; they all go in the second XACK.
     */
    @Test
    void acknowledgementsThatFinishWhileAnXackTravelsGoInTheNextOne() {
        Topic topic = member().topic("acks");
        io.braid.api.Channel channel = topic.subscribe("counted");
        publishAll(topic, "a", BATCH_SIZE); // in the stream before the reader starts: one batch
        long xacksBefore = xackCalls();
        AtomicInteger handled = new AtomicInteger();
        channel.onMessage(message -> {
            if (handled.incrementAndGet() == 1) {
                redis.server().pause();
            }
        });
        try {
            until("the whole batch handled while Redis is paused", () -> handled.get() == BATCH_SIZE);
        } finally {
            redis.server().resume();
        }
        until("all acknowledged", () -> pendingCount("acks", "counted") == 0);
        assertThat(xackCalls() - xacksBefore).as("XACKs sent for a batch of %d", BATCH_SIZE).isEqualTo(2);
    }

    private static long xackCalls() {
        try (RedisProbe probe = redis.server().probe()) {
            return probe.commandCalls().getOrDefault("xack", 0L);
        }
    }

    /** Publish → handler → acknowledgement, end to end; printed, not asserted (the machine decides). */
    @Test
    void throughputWithOneAndWithFourConsumers() {
        List<String> lines = new ArrayList<>();
        for (int concurrency : new int[] {1, 32}) {
            for (int consumers : new int[] {1, 4}) {
                int total = concurrency == 1 ? 5_000 : 40_000;
                String topicName = "bench-c" + concurrency + "-n" + consumers;
                AtomicInteger handled = new AtomicInteger();
                for (int i = 0; i < consumers; i++) {
                    member().topic(topicName).subscribe("work", ChannelOptions.DEFAULT.withConcurrency(concurrency))
                            .onMessage(message -> handled.incrementAndGet());
                }
                Topic topic = member().topic(topicName);
                long start = System.nanoTime();
                publishAll(topic, "b", total);
                until(total + " handled", () -> handled.get() >= total);
                until("all acknowledged", () -> pendingCount(topicName, "work") == 0);
                double seconds = (System.nanoTime() - start) / 1e9;
                assertThat(handled.get()).isEqualTo(total);
                lines.add(String.format("throughput: %d consumer(s), concurrency %d: %d messages in %.2f s = %.0f msg/s",
                        consumers, concurrency, total, seconds, total / seconds));
            }
        }
        System.out.println(lines.stream().collect(Collectors.joining(System.lineSeparator())));
    }

    /**
     * A backlog read by a channel at concurrency 1 takes one XREADGROUP per full batch: what a batch
     * left to acknowledge goes in an XACK written just before the next read on the reader's
     * connection, so the next read has the room of the whole batch (before, the held permits of a
     * batch came back only with the XACK's answer, and the read that followed was short).
     */
    @Test
    void aBacklogAtConcurrencyOneIsReadAndAcknowledgedOneCommandPerBatch() {
        int batches = 50;
        int total = batches * BATCH_SIZE;
        Topic topic = member().topic("backlog");
        io.braid.api.Channel channel = topic.subscribe("work");
        publishAll(topic, "b", total);
        try (RedisProbe probe = redis.server().probe()) {
            Map<String, Long> before = probe.commandCalls();
            AtomicInteger handled = new AtomicInteger();
            channel.onMessage(message -> handled.incrementAndGet());
            until("every message handled", () -> handled.get() == total);
            until("every message acknowledged", () -> pendingCount("backlog", "work") == 0);
            Map<String, Long> after = probe.commandCalls();
            long reads = after.getOrDefault("xreadgroup", 0L) - before.getOrDefault("xreadgroup", 0L);
            long acks = after.getOrDefault("xack", 0L) - before.getOrDefault("xack", 0L);
            // A read asks for as many messages as acknowledgements have freed room for (at most a
            // batch): one read per batch when a batch's XACK goes just before the next read, a few
            // more when an XACK on the shared connection is late (CI once saw 59 for 50). Before
            // that XACK moved, a batch's permits came back late: 106 reads; a read per message: 3,200.
            assertThat(reads).as("XREADGROUPs for %d messages in batches of %d (XACKs: %d)", total, BATCH_SIZE, acks)
                    .isBetween((long) batches, batches + batches / 2L);
            // The first of a batch is acknowledged at once, the rest as XACKs come back: a few per batch.
            assertThat(acks).as("XACKs for %d messages in batches of %d", total, BATCH_SIZE).isBetween(1L,
                    4L * batches);
        }
    }
}
