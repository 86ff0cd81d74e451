package io.braid.pubsub.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.api.DeadLetter;
import io.braid.api.Message;
import io.braid.api.MessageHandler;
import io.braid.api.Pubsub;
import io.braid.api.Topic;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Pubsub} does, run against each backend. A "member" is one process's pubsub on
 * the same store (for Redis: its own connector). The hooks at the top let a backend show what the
 * API does not: pending counts, the channels that exist, how much the store holds.
 */
abstract class PubsubContract {
    /** Generous bound for waits, so a slow machine fails with a message instead of hanging. */
    static final Duration WAIT = Duration.ofSeconds(20);
    /** Fast redelivery for the tests that need it. */
    static final Duration REDELIVER = Duration.ofMillis(200);
    static final int PUBLISH_WINDOW = 500;

    private final List<Pubsub> members = new ArrayList<>();
    private final List<AutoCloseable> afterMembers = new ArrayList<>();
    /** Latches a test blocks handlers on; opened after each test so that closing never waits for them. */
    private final List<CountDownLatch> gates = new ArrayList<>();

    /** A new process's pubsub on the same store. */
    protected abstract Pubsub newMember();

    /** Trims every topic of the store; what {@code RedisPubsub.trim()} and {@code InMemoryPubsub.trim()} do. */
    protected abstract long trim();

    /** Messages of {@code channel} handed to a consumer and not yet acknowledged (Redis: XPENDING). */
    protected abstract long pendingCount(String topic, String channel);

    /** The channels {@code topic} has in the store (Redis: its consumer groups). */
    protected abstract Set<String> channels(String topic);

    /** Messages the store holds for {@code topic} (Redis: XLEN). */
    protected abstract long storedCount(String topic);

    /** The most messages a consumer with a blocked handler may have taken from the store. */
    protected abstract long takenBound(int concurrency);

    /** Checked after each test once every member is closed: no connection or consumer left behind. */
    protected abstract void assertNothingLeftBehind();

    protected final Pubsub member() {
        Pubsub pubsub = newMember();
        members.add(pubsub);
        return pubsub;
    }

    /** Closes {@code pubsub} with the members; for members a backend makes some other way. */
    protected final <T extends Pubsub> T adopt(T pubsub) {
        members.add(pubsub);
        return pubsub;
    }

    /** Closes {@code resource} after every member has closed, last registered first. */
    protected final <T extends AutoCloseable> T closeAfterMembers(T resource) {
        afterMembers.add(resource);
        return resource;
    }

    protected final CountDownLatch gate() {
        CountDownLatch gate = new CountDownLatch(1);
        gates.add(gate);
        return gate;
    }

    @AfterEach
    void closeMembers() throws Exception {
        gates.forEach(CountDownLatch::countDown);
        for (Pubsub member : members) {
            member.close();
        }
        for (int i = afterMembers.size() - 1; i >= 0; i--) {
            afterMembers.get(i).close();
        }
        assertNothingLeftBehind();
    }

    // ---- helpers --------------------------------------------------------------------------------

    static byte[] bytes(String text) {
        return text.getBytes(UTF_8);
    }

    static String text(Message message) {
        return new String(message.body(), UTF_8);
    }

    static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw BraidException.from(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String publish(Topic topic, String body) {
        return await(topic.publish(bytes(body)));
    }

    /**
     * Publishes {@code prefix0 .. prefix(count-1)} in order, pipelined in windows of 500 (so that no
     * command waits behind thousands of others on a busy machine), and returns their ids.
     */
    static List<String> publishAll(Topic topic, String prefix, int count) {
        return publishAll(topic, prefix, 0, count);
    }

    /** As {@link #publishAll(Topic, String, int)}, {@code prefix<from> .. prefix<to-1>}. */
    static List<String> publishAll(Topic topic, String prefix, int from0, int to) {
        List<String> ids = new ArrayList<>(to - from0);
        for (int from = from0; from < to; from += PUBLISH_WINDOW) {
            List<CompletableFuture<String>> window = new ArrayList<>(PUBLISH_WINDOW);
            for (int i = from; i < Math.min(to, from + PUBLISH_WINDOW); i++) {
                window.add(topic.publish(bytes(prefix + i)));
            }
            window.forEach(id -> ids.add(await(id)));
        }
        return ids;
    }

    static List<String> bodies(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
    }

    static void until(String what, BooleanSupplier condition) {
        Await.until(WAIT, what, condition);
    }

    /** A handler that records what it got, in arrival order. */
    static final class Received implements MessageHandler {
        final List<Message> messages = new CopyOnWriteArrayList<>();

        @Override
        public void handle(Message message) {
            messages.add(message);
        }

        int size() {
            return messages.size();
        }

        List<String> texts() {
            return messages.stream().map(PubsubContract::text).toList();
        }

        Set<String> distinctTexts() {
            return new HashSet<>(texts());
        }
    }

    // ---- delivery patterns ----------------------------------------------------------------------

    @Test
    void oneChannelWithOneConsumerGetsEachMessageOnce() {
        Topic topic = member().topic("orders");
        Received received = new Received();
        topic.subscribe("billing").onMessage(received);

        publishAll(topic, "m", 100);

        until("100 distinct messages", () -> received.distinctTexts().size() == 100);
        until("every message acknowledged", () -> pendingCount("orders", "billing") == 0);
        assertThat(received.texts()).hasSize(100).containsExactlyInAnyOrderElementsOf(bodies("m", 100));
        assertThat(received.messages).allSatisfy(m -> assertThat(m.deliveryCount()).isEqualTo(1));
    }

    @Test
    void everyChannelGetsEveryMessage() {
        Topic publisher = member().topic("world");
        List<Received> channels = new ArrayList<>();
        for (String name : List.of("chat-a", "chat-b", "chat-c")) {
            Received received = new Received();
            member().topic("world").subscribe(name).onMessage(received);
            channels.add(received);
        }

        publishAll(publisher, "w", 100);

        for (Received received : channels) {
            until("every channel has 100 messages", () -> received.distinctTexts().size() == 100);
        }
        for (Received received : channels) {
            assertThat(received.texts()).hasSize(100).containsExactlyInAnyOrderElementsOf(bodies("w", 100));
        }
        assertThat(channels("world")).containsExactlyInAnyOrder("chat-a", "chat-b", "chat-c");
    }

    @Test
    void consumersOfOneChannelShareItsMessagesEachHandledOnce() {
        Map<String, Integer> handled = new ConcurrentHashMap<>();
        Set<Integer> consumersThatHandled = ConcurrentHashMap.newKeySet();
        CountDownLatch twoConsumersBusy = gate();
        AtomicBoolean gaveUpWaiting = new AtomicBoolean();
        for (int i = 0; i < 3; i++) {
            int consumer = i;
            member().topic("jobs").subscribe("workers").onMessage(message -> {
                handled.merge(text(message), 1, Integer::sum);
                consumersThatHandled.add(consumer);
                if (consumersThatHandled.size() >= 2) {
                    twoConsumersBusy.countDown();
                } else if (!gaveUpWaiting.get() && !twoConsumersBusy.await(5, TimeUnit.SECONDS)) {
                    // The first consumer holds its first message until another consumer has one:
                    // competing consumers must not all wait for the one that is busy.
                    gaveUpWaiting.set(true);
                }
            });
        }

        publishAll(member().topic("jobs"), "j", 100);

        until("100 messages handled", () -> handled.size() == 100);
        until("every message acknowledged", () -> pendingCount("jobs", "workers") == 0);
        assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(bodies("j", 100));
        assertThat(handled.values()).as("times each message was handled").containsOnly(1);
        assertThat(gaveUpWaiting).as("a second consumer took work while the first was busy").isFalse();
        assertThat(consumersThatHandled).hasSizeGreaterThan(1);
    }

    @Test
    void publishReturnsDistinctIdsThatTheMessagesCarry() {
        Topic topic = member().topic("ids");
        Received received = new Received();
        topic.subscribe("reader").onMessage(received);

        List<String> ids = publishAll(topic, "i", 20);

        assertThat(ids).doesNotHaveDuplicates().hasSize(20);
        until("20 messages", () -> received.size() == 20);
        for (Message message : received.messages) {
            int index = Integer.parseInt(text(message).substring(1));
            assertThat(message.id()).isEqualTo(ids.get(index));
            assertThat(message.topic()).isEqualTo("ids");
        }
    }

    @Test
    void headersAndABinaryBodyArriveUnchanged() {
        Topic topic = member().topic("binary");
        Received received = new Received();
        member().topic("binary").subscribe("reader").onMessage(received);
        byte[] body = new byte[256];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        Map<String, String> headers = Map.of("trace-id", "4bf92f3577b34da6", "player", "Jürgen ✓", "empty", "");

        String id = await(topic.publish(body, headers));
        await(topic.publish(new byte[0]));

        until("both messages", () -> received.size() == 2);
        Message message = received.messages.get(0);
        assertThat(message.id()).isEqualTo(id);
        assertThat(message.body()).isEqualTo(body);
        assertThat(message.headers()).isEqualTo(headers);
        assertThat(received.messages.get(1).body()).isEmpty();
        assertThat(received.messages.get(1).headers()).isEmpty();
    }

    // ---- failures, redelivery, dead letters -----------------------------------------------------

    @Test
    void aFailingMessageIsRedeliveredThenDeadLetteredWithItsReasonAndCanBeReplayed() {
        Topic topic = member().topic("payments");
        List<Integer> deliveries = new CopyOnWriteArrayList<>();
        Received replayed = new Received();
        Received fine = new Received();
        topic.subscribe("ledger", ChannelOptions.DEFAULT.withRedeliverAfter(REDELIVER).withMaxDeliveries(3))
                .onMessage(message -> {
                    if (message.headers().containsKey("braid-replay-of")) {
                        replayed.handle(message);
                    } else if (text(message).equals("poison")) {
                        deliveries.add(message.deliveryCount());
                        throw new IllegalStateException("boom on delivery " + message.deliveryCount());
                    } else {
                        fine.handle(message);
                    }
                });

        String poisonId = await(topic.publish(bytes("poison"), Map.of("kind", "refund")));
        publish(topic, "fine");

        until("a dead letter", () -> !await(topic.deadLetters(10)).isEmpty());
        List<DeadLetter> dead = await(topic.deadLetters(10));
        assertThat(dead).hasSize(1);
        DeadLetter letter = dead.get(0);
        assertThat(letter.channel()).isEqualTo("ledger");
        assertThat(letter.reason()).contains("IllegalStateException").contains("boom on delivery 3");
        assertThat(letter.message().id()).isEqualTo(poisonId);
        assertThat(letter.message().topic()).isEqualTo("payments");
        assertThat(text(letter.message())).isEqualTo("poison");
        assertThat(letter.message().headers()).isEqualTo(Map.of("kind", "refund"));
        assertThat(letter.message().deliveryCount()).isEqualTo(3);
        assertThat(deliveries).containsExactly(1, 2, 3);
        assertThat(fine.texts()).containsExactly("fine");
        until("nothing pending", () -> pendingCount("payments", "ledger") == 0);

        assertThat(await(topic.replayDeadLetters(10))).isEqualTo(1);

        assertThat(await(topic.deadLetters(10))).isEmpty();
        until("the replayed message", () -> replayed.size() == 1);
        Message again = replayed.messages.get(0);
        assertThat(again.headers()).containsEntry("braid-replay-of", poisonId).containsEntry("kind", "refund");
        assertThat(again.id()).isNotEqualTo(poisonId);
        assertThat(text(again)).isEqualTo("poison");
        assertThat(again.deliveryCount()).isEqualTo(1);
        assertThat(deliveries).containsExactly(1, 2, 3);
        assertThat(await(topic.replayDeadLetters(10))).isZero();
    }

    @Test
    void aMessageHeldByAStuckConsumerGoesToAnotherConsumerAfterRedeliverAfter() {
        ChannelOptions options = ChannelOptions.DEFAULT.withRedeliverAfter(REDELIVER);
        CountDownLatch stuckForever = gate();
        List<Message> stuck = new CopyOnWriteArrayList<>();
        member().topic("tasks").subscribe("runners", options).onMessage(message -> {
            stuck.add(message);
            stuckForever.await(); // a hung process: never returns, never throws
        });
        Topic topic = member().topic("tasks");
        String id = publish(topic, "task-1");
        until("the first consumer holds the message", () -> stuck.size() == 1);

        Received rescuer = new Received();
        topic.subscribe("runners", options).onMessage(rescuer);

        until("the second consumer gets it", () -> rescuer.size() == 1);
        assertThat(rescuer.messages.get(0).id()).isEqualTo(id);
        assertThat(rescuer.messages.get(0).deliveryCount()).isEqualTo(2);
        until("acknowledged by the second consumer", () -> pendingCount("tasks", "runners") == 0);
        assertThat(stuck).hasSize(1);
    }

    // ---- order and concurrency ------------------------------------------------------------------

    @Test
    void concurrencyOneDeliversInPublishOrder() {
        Topic topic = member().topic("moves");
        Received received = new Received();
        member().topic("moves").subscribe("replay").onMessage(received);

        publishAll(topic, "", 1_000);

        until("1,000 messages", () -> received.size() >= 1_000);
        assertThat(received.texts()).isEqualTo(bodies("", 1_000));
    }

    @Test
    void concurrencyEightRunsEightHandlersAtOnceAndNeverMore() {
        Topic topic = member().topic("renders");
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        CountDownLatch eightRunning = new CountDownLatch(8);
        CountDownLatch release = gate();
        topic.subscribe("workers", ChannelOptions.DEFAULT.withConcurrency(8)).onMessage(message -> {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            eightRunning.countDown();
            try {
                release.await();
            } finally {
                running.decrementAndGet();
                done.incrementAndGet();
            }
        });

        publishAll(topic, "r", 30);

        until("eight handlers running at once", () -> eightRunning.getCount() == 0);
        assertThat(Await.poll(Duration.ofMillis(300), () -> mostAtOnce.get() > 8))
                .as("more than 8 handlers ran at once").isFalse();
        assertThat(running.get()).isEqualTo(8);
        release.countDown();
        until("all 30 handled", () -> done.get() == 30);
        assertThat(mostAtOnce.get()).isEqualTo(8);
    }

    // ---- start position, durability -------------------------------------------------------------

    @Test
    void earliestSeesMessagesPublishedBeforeItLatestDoesNot() {
        Topic topic = member().topic("history");
        publish(topic, "old-1");
        publish(topic, "old-2");
        Received early = new Received();
        Received late = new Received();
        topic.subscribe("archive", ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST))
                .onMessage(early);
        topic.subscribe("live", ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.LATEST))
                .onMessage(late);

        publish(topic, "new");

        until("the earliest channel has all three", () -> early.size() == 3);
        until("the latest channel has the new one", () -> late.size() == 1);
        assertThat(early.texts()).containsExactly("old-1", "old-2", "new");
        assertThat(late.texts()).containsExactly("new");
    }

    @Test
    void aDurableChannelKeepsWhatIsPublishedWhileItHasNoConsumer() {
        Topic topic = member().topic("mail");
        Received first = new Received();
        Channel consumer = member().topic("mail").subscribe("inbox");
        consumer.onMessage(first);
        publish(topic, "before");
        until("the first consumer's message", () -> first.size() == 1);
        until("acknowledged", () -> pendingCount("mail", "inbox") == 0);

        consumer.close();
        publish(topic, "while-away-1");
        publish(topic, "while-away-2");
        assertThat(channels("mail")).contains("inbox");

        Received second = new Received();
        // At least once allows a message to reach a consumer that is closing (Redis: a read in
        // flight when close interrupts it); it then waits for redeliverAfter, kept short here.
        member().topic("mail").subscribe("inbox", ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofSeconds(1)))
                .onMessage(second);

        until("both messages kept for the channel", () -> second.distinctTexts().size() == 2);
        assertThat(second.texts()).containsExactlyInAnyOrder("while-away-1", "while-away-2");
        assertThat(first.texts()).containsExactly("before");
    }

    @Test
    void anEphemeralChannelIsGoneWhenItsConsumerCloses() {
        Pubsub member = member();
        Topic topic = member.topic("presence");
        topic.subscribe("audit").onMessage(new Received()); // a durable neighbour that stays
        ChannelOptions ephemeral = ChannelOptions.DEFAULT.withDurable(false);
        Received first = new Received();
        Channel consumer = topic.subscribe("node-1", ephemeral);
        consumer.onMessage(first);
        publish(topic, "one");
        until("the first message", () -> first.size() == 1);

        consumer.close();

        until("the ephemeral channel is removed", () -> !channels("presence").contains("node-1"));
        assertThat(channels("presence")).containsExactly("audit");
        publish(topic, "two"); // nobody keeps this one for node-1
        Received second = new Received();
        topic.subscribe("node-1", ephemeral).onMessage(second);
        publish(topic, "three");
        until("the new channel's message", () -> second.size() == 1);
        assertThat(second.texts()).containsExactly("three");
    }

    @Test
    void trimRemovesOnlyWhatTheSlowestChannelNoLongerNeeds() {
        Topic topic = member().topic("scores");
        Received fast = new Received();
        topic.subscribe("fast").onMessage(fast);
        Received slow = new Received();
        CountDownLatch slowBlocked = new CountDownLatch(1);
        CountDownLatch release = gate();
        member().topic("scores").subscribe("slow").onMessage(message -> {
            slow.handle(message);
            if (text(message).equals("s50")) {
                slowBlocked.countDown();
                release.await();
            }
        });

        publishAll(topic, "s", 100);

        until("the fast channel handled everything", () -> fast.size() == 100);
        until("the fast channel acknowledged everything", () -> pendingCount("scores", "fast") == 0);
        until("the slow channel is stuck at s50", () -> slowBlocked.getCount() == 0);
        // The slow consumer may hold more than s50 (a read takes a batch); what it acknowledged,
        // s0..s49, becomes trimmable as its acknowledgements land, and nothing from s50 on ever does.
        AtomicLong trimmed = new AtomicLong();
        until("s0..s49 trimmed", () -> {
            trimmed.addAndGet(trim());
            return storedCount("scores") <= 50;
        });
        assertThat(trimmed.get()).as("messages trimmed").isEqualTo(50);
        assertThat(storedCount("scores")).isEqualTo(50);
        assertThat(trim()).as("a second trim").isZero();

        release.countDown();
        until("the slow channel handled everything", () -> slow.size() == 100);
        assertThat(slow.texts()).isEqualTo(bodies("s", 100));
        Received late = new Received();
        topic.subscribe("late", ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST))
                .onMessage(late);
        until("a late channel reads what is left", () -> late.size() == 50);
        assertThat(late.texts()).isEqualTo(bodies("s", 100).subList(50, 100));
    }

    /**
     * The leader's trim in a tight loop while a fast and a slow channel read a busy topic: what a
     * channel still needs (its pending messages and everything after what it was last given) must
     * survive every trim, however the trim interleaves with reads and acknowledgements.
     */
    @Test
    void trimInATightLoopNeverTakesWhatASlowChannelHasNotHad() throws Exception {
        int total = 3_000;
        Topic topic = member().topic("race");
        // "audit" sorts before "live": both orders of the channels' names must be safe.
        Received fast = new Received();
        topic.subscribe("live").onMessage(fast);
        Set<String> slow = ConcurrentHashMap.newKeySet();
        member().topic("race").subscribe("audit").onMessage(message -> {
            slow.add(text(message));
            if (Integer.parseInt(text(message).substring(1)) % 4 == 0) {
                Thread.sleep(1); // a quarter of the messages take a millisecond: this channel lags behind
            }
        });
        trim(); // the trimming member is made here, on the test's thread
        AtomicBoolean trimming = new AtomicBoolean(true);
        AtomicLong trims = new AtomicLong();
        AtomicLong trimmed = new AtomicLong();
        Thread trimmer = Thread.ofPlatform().name("test-trimmer").start(() -> {
            while (trimming.get()) {
                trimmed.addAndGet(trim());
                trims.incrementAndGet();
            }
        });
        try {
            for (int from = 0; from < total; from += 100) {
                publishAll(topic, "r", from, Math.min(total, from + 100));
            }
            until("the fast channel has every message", () -> fast.distinctTexts().size() == total);
            // Trimming goes on while the slow channel catches up; a message trimmed from under it never comes.
            Await.poll(WAIT, () -> slow.size() == total);
        } finally {
            trimming.set(false);
            trimmer.join(WAIT.toMillis());
        }
        publish(topic, "end"); // read after every message the slow channel will ever get
        until("the slow channel reads the end", () -> slow.contains("end"));
        assertThat(trims.get()).as("trims run").isGreaterThan(10);
        assertThat(trimmed.get()).as("messages trimmed").isPositive();
        List<String> missing = bodies("r", total).stream().filter(body -> !slow.contains(body)).toList();
        assertThat(missing.size()).as("messages the slow channel never received (it had %d of %d after %d trims; "
                + "the first missing: %s)", total - missing.size(), total, trims.get(),
                missing.subList(0, Math.min(10, missing.size()))).isZero();
    }

    @Test
    void aBlockedConsumerTakesNoMoreThanItsBoundFromTheStore() {
        Topic topic = member().topic("flood");
        CountDownLatch release = gate();
        AtomicInteger handled = new AtomicInteger();
        topic.subscribe("stuck").onMessage(message -> {
            release.await();
            handled.incrementAndGet();
        });

        List<String> ids = publishAll(topic, "f", 10_000);

        assertThat(ids).hasSize(10_000);
        until("the consumer took the first message", () -> pendingCount("flood", "stuck") >= 1);
        assertThat(Await.poll(Duration.ofMillis(500), () -> pendingCount("flood", "stuck") > takenBound(1)))
                .as("the blocked consumer kept taking messages").isFalse();
        assertThat(pendingCount("flood", "stuck")).isBetween(1L, takenBound(1));
        assertThat(storedCount("flood")).isEqualTo(10_000);
        assertThat(handled).hasValue(0);

        release.countDown();
        until("the consumer goes on once its handler is free", () -> handled.get() >= 500);
        assertThat(pendingCount("flood", "stuck")).isLessThanOrEqualTo(takenBound(1));
    }

    @Test
    void closeLetsARunningHandlerFinishAndIsIdempotent() throws Exception {
        Pubsub member = member();
        Topic topic = member.topic("saves");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = gate();
        AtomicBoolean finished = new AtomicBoolean();
        Channel channel = topic.subscribe("disk");
        channel.onMessage(message -> {
            started.countDown();
            release.await();
            finished.set(true);
        });
        publish(topic, "save-1");
        until("the handler runs", () -> started.getCount() == 0);

        Received idleReceived = new Received();
        Channel idle = topic.subscribe("idle");
        idle.onMessage(idleReceived);
        publish(topic, "wake-up");
        until("the idle channel had its message", () -> idleReceived.size() == 1);
        long closing = System.nanoTime();
        idle.close();
        assertThat(Duration.ofNanos(System.nanoTime() - closing)).as("closing a consumer waiting for messages")
                .isLessThan(Duration.ofSeconds(3));

        AtomicBoolean closeReturned = new AtomicBoolean();
        Thread closer = Thread.ofVirtual().start(() -> {
            channel.close();
            closeReturned.set(true);
        });
        assertThat(Await.poll(Duration.ofMillis(300), closeReturned::get))
                .as("close returned while its handler was running").isFalse();
        release.countDown();
        closer.join(WAIT.toMillis());

        assertThat(closeReturned).isTrue();
        assertThat(finished).isTrue();
        until("the finished message is acknowledged", () -> pendingCount("saves", "disk") == 0);
        channel.close();
        member.close();
        member.close();
        assertThatThrownBy(() -> member.topic("saves")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> await(topic.publish(bytes("after close"))))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE));
    }

    /**
     * Closing a member with twenty idle channels takes about as long as closing one: no channel
     * waits out a blocking read, and they do not close one after another.
     */
    @Test
    void closingAMemberWithTwentyIdleChannelsIsQuick() {
        Pubsub member = member();
        Topic topic = member.topic("idle");
        Received received = new Received();
        for (int i = 0; i < 20; i++) {
            topic.subscribe("idle-" + i).onMessage(received);
        }
        publish(topic, "wake-up");
        until("every channel had its message", () -> received.size() == 20);
        for (int i = 0; i < 20; i++) {
            String channel = "idle-" + i;
            until("acknowledged", () -> pendingCount("idle", channel) == 0);
        }
        // Every reader is waiting for messages now.
        Await.poll(Duration.ofMillis(100), () -> false);

        long start = System.nanoTime();
        member.close();
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        System.out.println(getClass().getSimpleName() + ": closing a member with 20 idle channels took "
                + took.toMillis() + " ms");
        assertThat(took).as("closing a member with 20 idle channels").isLessThan(Duration.ofSeconds(3));
    }

    /**
     * Consumers of a durable channel closed one after another while messages flow: whatever a
     * closing consumer had read but not handled stays pending and reaches a later consumer.
     */
    @Test
    void consumersClosedWhileMessagesFlowLoseNothing() throws Exception {
        int total = 2_000;
        Topic topic = member().topic("relay");
        ChannelOptions options = ChannelOptions.DEFAULT.withRedeliverAfter(REDELIVER);
        Set<String> received = ConcurrentHashMap.newKeySet();
        Pubsub first = member();
        first.topic("relay").subscribe("relay").onMessage(message -> received.add(text(message)));
        Thread publisher = Thread.ofPlatform().name("test-publisher").start(() -> {
            for (int from = 0; from < total; from += 20) {
                publishAll(topic, "p", from, Math.min(total, from + 20));
            }
        });
        Pubsub current = first;
        for (int round = 0; round < 8; round++) {
            Pubsub next = member();
            next.topic("relay").subscribe("relay", options).onMessage(message -> received.add(text(message)));
            int before = received.size();
            until("the consumers go on receiving", () -> received.size() >= Math.min(total, before + 50));
            current.close(); // with reads in flight, handlers running, acknowledgements travelling
            current = next;
        }
        publisher.join(WAIT.toMillis());
        until("every message received by some consumer (had " + received.size() + ")",
                () -> received.size() == total);
        assertThat(received).containsExactlyInAnyOrderElementsOf(bodies("p", total));
    }

    // ---- bad input ------------------------------------------------------------------------------

    /** A synchronous call refused: BraidException(INVALID_ARGUMENT) whose message says {@code mentions}. */
    static void assertInvalid(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String mentions) {
        assertThatThrownBy(call).isInstanceOfSatisfying(BraidException.class,
                e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT)).hasMessageContaining(mentions);
    }

    /**
     * A call that returns a future refused: it does not throw, its future fails with
     * BraidException(INVALID_ARGUMENT) whose message says {@code mentions}.
     */
    static void assertFailsInvalid(java.util.function.Supplier<CompletableFuture<?>> call, String mentions) {
        CompletableFuture<?> future = call.get();
        assertThatThrownBy(() -> future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                .isInstanceOf(ExecutionException.class).cause()
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT))
                .hasMessageContaining(mentions);
    }

    @Test
    void badInputIsRefusedWithClearErrors() {
        Pubsub member = member();
        assertInvalid(() -> member.topic("chat world"), "topic name");
        assertInvalid(() -> member.topic("chat world"), "chat world");
        assertInvalid(() -> member.topic(""), "topic name");
        assertInvalid(() -> member.topic(null), "topic name");
        assertInvalid(() -> member.topic("x".repeat(201)), "topic name");
        assertInvalid(() -> member.topic("{slot}"), "topic name");

        Topic topic = member.topic("chat.world");
        assertInvalid(() -> topic.subscribe("a/b"), "channel name");
        assertInvalid(() -> topic.subscribe("a/b"), "a/b");
        assertInvalid(() -> topic.subscribe("ok", null), "options");

        // publish returns a future: bad arguments fail it, never throw.
        assertFailsInvalid(() -> topic.publish(bytes("x"), Map.of("braid-replay-of", "1-0")), "reserved");
        assertFailsInvalid(() -> topic.publish(bytes("x"), Map.of("BRAID-Trace", "1")), "reserved");
        assertFailsInvalid(() -> topic.publish(bytes("x"), Map.of("", "v")), "headers");
        java.util.Map<String, String> nullValue = new java.util.HashMap<>();
        nullValue.put("k", null);
        assertFailsInvalid(() -> topic.publish(bytes("x"), nullValue), "headers");
        assertFailsInvalid(() -> topic.publish(null), "body");
        assertFailsInvalid(() -> topic.publish(bytes("x"), null), "headers");
        assertThat(storedCount("chat.world")).as("nothing stored by the refused publishes").isZero();

        Received received = new Received();
        Channel channel = topic.subscribe("reader");
        assertInvalid(() -> channel.onMessage(null), "handler");
        channel.onMessage(received);
        assertThatThrownBy(() -> await(topic.publish(new byte[1024 * 1024 + 1])))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.RESOURCE_EXHAUSTED))
                .hasMessageContaining("maxBodyBytes");
        byte[] largest = new byte[1024 * 1024];
        largest[largest.length - 1] = 42;
        await(topic.publish(largest));
        until("the largest allowed body", () -> received.size() == 1);
        assertThat(received.messages.get(0).body()).isEqualTo(largest);

        assertThatThrownBy(() -> channel.onMessage(new Received())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already has a handler");
        assertFailsInvalid(() -> topic.deadLetters(0), "limit");
        assertFailsInvalid(() -> topic.deadLetters(100_001), "limit");
        assertFailsInvalid(() -> topic.replayDeadLetters(-1), "limit");
        channel.close();
        assertThatThrownBy(() -> channel.onMessage(new Received())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void oversizedMessagesAreRefusedBeforeAnythingIsStored() {
        Pubsub member = member();
        Topic topic = member.topic("oversized");
        Received received = new Received();
        Channel channel = topic.subscribe("reader");
        channel.onMessage(received);

        Map<String, String> hugeHeader = Map.of("h", "v".repeat(64 * 1024));
        assertThatThrownBy(() -> await(topic.publish(bytes("x"), hugeHeader)))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.RESOURCE_EXHAUSTED))
                .hasMessageContaining("headers").hasMessageContaining("65536");
        Map<String, String> manyHeaders = new java.util.HashMap<>();
        for (int i = 0; i < 5_000; i++) {
            manyHeaders.put("header-" + i, "value-" + i);
        }
        assertThatThrownBy(() -> await(topic.publish(bytes("x"), manyHeaders)))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.RESOURCE_EXHAUSTED));
        // Multi-byte characters count by their UTF-8 bytes: 30,000 of them are 90,000 bytes.
        assertThatThrownBy(() -> await(topic.publish(bytes("x"), Map.of("h", "\u20ac".repeat(30_000)))))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.RESOURCE_EXHAUSTED));
        assertThatThrownBy(() -> await(topic.publish(new byte[4 * 1024 * 1024], Map.of("h", "v"))))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.RESOURCE_EXHAUSTED))
                .hasMessageContaining("maxBodyBytes");
        assertThat(storedCount("oversized")).as("nothing stored by the refused publishes").isZero();

        // Just under the header limit goes through whole.
        String largest = "v".repeat(64 * 1024 - 1);
        await(topic.publish(bytes("fits"), Map.of("h", largest)));
        until("the message with the largest headers", () -> received.size() == 1);
        assertThat(received.messages.get(0).headers()).containsEntry("h", largest);
        assertThat(storedCount("oversized")).isEqualTo(1);
        channel.close();
    }

    @Test
    void namesThatWouldBreakKeysOrHashTagsAreRefused() {
        Pubsub member = member();
        for (String bad : new String[] {"", " ", "\t", "chat\nworld", "a{b", "a}b", "{", "}", "{topic:x}", "a b",
                "x".repeat(201), "caf\u00e9", "a/b", "a*b", "a\u0000b"}) {
            assertInvalid(() -> member.topic(bad), "topic name");
            assertInvalid(() -> member.topic("ok").subscribe(bad), "channel name");
        }
        // The longest allowed name, and every allowed character, work end to end.
        String longest = "t".repeat(200);
        Topic topic = member.topic(longest);
        Received received = new Received();
        Channel channel = topic.subscribe("c.h_a-n:1");
        channel.onMessage(received);
        await(topic.publish(bytes("edge")));
        until("the message on the longest topic name", () -> received.size() == 1);
        channel.close();
    }
}

