package io.braid.pubsub.internal;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.Message;
import io.braid.api.MessageHandler;
import io.braid.redis.internal.RedisErrors;
import io.braid.redis.internal.RedisScript;
import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XPendingArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.models.stream.PendingMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer of one channel (a consumer group) of one topic. A reader thread takes batches from
 * the group (XREADGROUP) only while a handler slot is free, so a slow handler slows its reader and
 * nothing buffers without bound. At concurrency 1 the reader runs the handler itself; above, worker
 * virtual threads do. Handlers that return are acknowledged in batches (one XACK in flight at a
 * time, carrying all that finished while the previous one travelled; at concurrency 1 what is left
 * when a batch ends is written on the reader's connection before its next read); handlers that
 * throw leave their message pending. Every
 * {@code redeliverAfter / 2} the reader claims messages of this channel that have been pending
 * longer than {@code redeliverAfter} (from any consumer, dead or slow), and moves those delivered
 * {@code maxDeliveries} times to the dead letters.
 *
 * <p>Redis down: the reader backs off (up to 2 s) and retries; a group lost with Redis' data is
 * created again. {@link #close()} ends the read in flight at once (closing the reader's own
 * connection), lets running handlers finish, acknowledges them, and removes the group if the
 * channel is ephemeral.
 */
final class StreamChannel implements Channel {
    private static final Logger log = LoggerFactory.getLogger(StreamChannel.class);
    private static final RedisScript DEAD = RedisScript.resource(StreamChannel.class, "dead.lua");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final int MAX_REMEMBERED_FAILURES = 10_000;

    private final RedisPubsub pubsub;
    private final String topic;
    private final String channel;
    private final ChannelOptions options;
    private final String key;
    private final String consumerName;
    private final Consumer<String> consumer;
    private final Semaphore slots;
    /**
     * Messages this consumer holds: read or claimed, and not yet acknowledged (or given back by a
     * failing handler). At most a batch plus what the handlers run, so the group's pending list
     * for this consumer stays bounded even when acknowledgements lag.
     */
    private final Semaphore held;
    /** Read or claimed, not yet given to a handler. */
    private final ConcurrentLinkedQueue<Delivery> ready = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> toAck = new ConcurrentLinkedQueue<>();
    /** An XACK is on its way: what finishes meanwhile waits for its answer and goes in the next one. */
    private final AtomicBoolean acking = new AtomicBoolean();
    /** The last XACK sent (complete when none was). */
    private volatile CompletableFuture<?> lastAck = CompletableFuture.completedFuture(null);
    private final Map<String, String> lastFailure = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile MessageHandler handler;
    /** The reader's own connection: closing it ends a blocking read at once. Guarded by this. */
    private StatefulConnection<String, byte[]> readConnection;
    /** Guarded by this. */
    private Thread reader;
    /**
     * Concurrency 1: the reader runs the handler itself (no thread hop between a read and its
     * handler, nor back to the reader for the next read), and what is still to acknowledge when a
     * batch ends goes in one XACK written on the reader's connection just before the next
     * XREADGROUP.
     */
    private final boolean inline;
    /**
     * Ids whose XACK written before a read failed: sent again with the next XACK, their held
     * permits already given back.
     */
    private final ConcurrentLinkedQueue<String> reAck = new ConcurrentLinkedQueue<>();
    /** Inline only: the reader is running a handler, so close() must not interrupt it. Guarded by this. */
    private boolean handling;
    /** Inline only, reader's thread only: the ids of the last XACK sent on the reader's connection. */
    private String[] pendingInlineAck;

    StreamChannel(RedisPubsub pubsub, String topic, String channel, ChannelOptions options) {
        this.pubsub = pubsub;
        this.topic = topic;
        this.channel = channel;
        this.options = options;
        this.key = RedisPubsub.streamKey(topic);
        this.consumerName = pubsub.consumerPrefix + "-" + SEQUENCE.incrementAndGet();
        this.consumer = Consumer.from(channel, consumerName);
        this.slots = new Semaphore(options.concurrency());
        this.held = new Semaphore(pubsub.batchSize + options.concurrency());
        this.inline = options.concurrency() == 1;
        ensureGroup(); // a channel exists from subscribe on, so publishes after it are kept for it
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public String name() {
        return channel;
    }

    @Override
    public void onMessage(MessageHandler handler) {
        Names.required(handler, "handler");
        if (closed.get()) {
            throw new IllegalStateException("channel " + channel + " of " + topic + " is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("channel " + channel + " of " + topic + " already has a handler");
        }
        this.handler = handler;
        synchronized (this) {
            if (closed.get()) {
                return;
            }
            this.readConnection = pubsub.redis.newBinaryConnection();
            this.reader = Thread.ofVirtual().name("braid-channel-" + topic + "/" + channel).start(this::readLoop);
        }
    }

    boolean isEphemeral() {
        return !options.durable();
    }

    /**
     * Creates the group unless it exists. An ephemeral channel is marked alive first, so the
     * leader never finds its group without a mark and a crash right after creating it still
     * leaves a mark that goes stale.
     */
    private void ensureGroup() {
        if (isEphemeral()) {
            try {
                pubsub.beat(topic, List.of(channel));
            } catch (Exception e) {
                throw RedisPubsub.failure("cannot mark ephemeral channel " + channel + " of topic " + topic + " alive", e);
            }
        }
        String start = options.startAt() == ChannelOptions.StartPosition.EARLIEST ? "0" : "$";
        try {
            pubsub.binary.xgroupCreate(XReadArgs.StreamOffset.from(key, start), channel,
                    XGroupCreateArgs.Builder.mkstream(true)).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (!RedisErrors.is(e, RedisErrors.BUSYGROUP)) {
                throw RedisPubsub.failure("cannot create channel " + channel + " of topic " + topic, e);
            }
        }
    }

    private void readLoop() {
        RedisClusterAsyncCommands<String, byte[]> commands = pubsub.redis.binaryCommands(readConnection);
        long claimEveryNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(20), options.redeliverAfter().toNanos() / 2);
        long nextClaim = pubsub.ticker.read() + claimEveryNanos;
        long backoffMillis = 0;
        while (!closed.get()) {
            try {
                if (backoffMillis > 0) {
                    TimeUnit.MILLISECONDS.sleep(backoffMillis);
                }
                // Read only while a handler can start: a busy channel leaves new messages in Redis,
                // where other consumers of the channel can take them.
                slots.acquire();
                slots.release();
                List<StreamMessage<String, byte[]>> batch;
                int room = 0;
                CompletableFuture<Long> acked = inline ? ackBeforeRead(commands) : null;
                try {
                    held.acquire();
                    int available = 1 + held.drainPermits();
                    room = Math.min(pubsub.batchSize, available);
                    held.release(available - room);
                    batch = commands.xreadgroup(consumer, XReadArgs.Builder.count(room).block(pubsub.block),
                                    XReadArgs.StreamOffset.lastConsumed(key))
                            .get(pubsub.block.toMillis() + 5_000, TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    held.release(room);
                    throw e;
                } finally {
                    if (acked != null) {
                        requeueIfFailed(acked);
                    }
                }
                held.release(room - batch.size()); // the rest stays held until acknowledged
                // A batch read is always handed to the handlers, even if close() came meanwhile:
                // its messages are this consumer's now.
                for (StreamMessage<String, byte[]> entry : batch) {
                    dispatch(entry.getId(), entry.getBody(), 1);
                }
                handleInline();
                if (pubsub.ticker.read() - nextClaim >= 0) {
                    claimStale(commands);
                    nextClaim = pubsub.ticker.read() + claimEveryNanos;
                    handleInline();
                }
                if (backoffMillis > 0) {
                    log.info("channel {} of {} reads again", channel, topic);
                    backoffMillis = 0;
                }
            } catch (InterruptedException e) {
                break;
            } catch (Exception e) {
                if (closed.get()) {
                    break;
                }
                if (RedisErrors.is(e, RedisErrors.NOGROUP)) {
                    log.warn("channel {} of {} is gone from Redis (data lost?); creating it again", channel, topic);
                    recreateQuietly();
                    continue;
                }
                if (backoffMillis == 0) {
                    log.warn("channel {} of {} cannot read ({}); retrying with backoff", channel, topic, e.getMessage());
                }
                backoffMillis = Math.min(2_000, Math.max(100, backoffMillis * 2));
            }
        }
        scheduleAck(); // what is left is sent by close() (drainAcks) once this thread ended
    }

    /**
     * Inline: one XACK for what the reader handled and is not yet on its way (the XACK in flight
     * on the shared connection took the first of a batch), written on the reader's connection just
     * before the next XREADGROUP. Redis runs a connection's commands in order, so the XACK has run
     * when the read does: the held permits of these messages are free for it.
     */
    private CompletableFuture<Long> ackBeforeRead(RedisClusterAsyncCommands<String, byte[]> commands) {
        List<String> taken = new ArrayList<>();
        String id;
        while ((id = toAck.poll()) != null) {
            taken.add(id);
        }
        if (taken.isEmpty()) {
            return null;
        }
        String[] ids = taken.toArray(String[]::new);
        CompletableFuture<Long> sent = commands.xack(key, channel, ids).toCompletableFuture();
        held.release(ids.length);
        pendingInlineAck = ids;
        return sent;
    }

    /**
     * An XACK written before a read completes before the read does (same connection). If it
     * failed (connection closed by close(), Redis down), its ids go to the shared connection's
     * acknowledgements; acknowledging twice is harmless.
     */
    private void requeueIfFailed(CompletableFuture<Long> acked) {
        String[] ids = pendingInlineAck;
        pendingInlineAck = null;
        boolean failed;
        try {
            acked.get(5, TimeUnit.SECONDS);
            failed = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed = true;
        } catch (Exception e) {
            failed = true;
        }
        if (failed && ids != null) {
            for (String id : ids) {
                reAck.add(id); // permits given back when it was sent
            }
            scheduleAck();
        }
    }

    /**
     * Inline: runs the handler on every queued message on this (the reader's) thread, holding the
     * one slot. close() does not interrupt the reader while a handler runs; an interrupt that came
     * before is cleared, so the handler never sees it (close() ends the loop by its flag).
     */
    private void handleInline() {
        if (!inline || ready.isEmpty()) {
            return;
        }
        slots.acquireUninterruptibly();
        synchronized (this) {
            handling = true;
            Thread.interrupted();
        }
        try {
            Delivery next;
            while ((next = ready.poll()) != null) {
                handle(next);
            }
        } finally {
            synchronized (this) {
                handling = false;
            }
            slots.release();
        }
    }

    private void recreateQuietly() {
        try {
            ensureGroup();
        } catch (RuntimeException e) {
            log.debug("recreating channel {} of {} failed: {}", channel, topic, e.getMessage());
        }
    }

    /** A message read or claimed by this consumer, waiting for a worker. */
    private record Delivery(String id, Map<String, byte[]> fields, int deliveryCount) {
    }

    /**
     * Queues a message for the handlers and starts a worker if a slot is free. Never waits: the
     * queue holds at most what {@link #held} allows, and the reader reads again only once a slot
     * is free, which a worker gives back only when the queue is empty.
     */
    private void dispatch(String id, Map<String, byte[]> fields, int deliveryCount) {
        if (fields == null) {
            // The entry was trimmed away (maxLen cap) while pending: nothing to deliver.
            toAck.add(id);
            scheduleAck();
            return;
        }
        ready.add(new Delivery(id, fields, deliveryCount));
        if (!inline) {
            startWorkers();
        }
    }

    /** Starts workers, each on a slot, while messages wait and slots are free. */
    private void startWorkers() {
        while (!ready.isEmpty() && slots.tryAcquire()) {
            try {
                pubsub.handlers.execute(this::work);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                slots.release();
                Delivery dropped;
                while ((dropped = ready.poll()) != null) {
                    held.release(); // stays pending; another consumer gets it
                }
                return;
            }
        }
    }

    /**
     * A worker: runs the handler on queued messages, in order, until none is left, then gives its
     * slot back. One virtual thread serves a whole run of messages, so a busy channel does not pay
     * a thread start and a hand-off per message.
     */
    private void work() {
        do {
            Delivery next;
            while ((next = ready.poll()) != null) {
                handle(next);
            }
            slots.release();
        } while (!ready.isEmpty() && slots.tryAcquire()); // queued after our last look, before the release
    }

    private void handle(Delivery delivery) {
        String id = delivery.id();
        try {
            if (delivery.deliveryCount() == 1) {
                pubsub.listener.delivered(topic, channel);
            } else {
                pubsub.listener.redelivered(topic, channel);
            }
            handler.handle(toMessage(id, topic, delivery.fields(), delivery.deliveryCount()));
            if (!lastFailure.isEmpty()) {
                lastFailure.remove(id);
            }
            toAck.add(id);
            scheduleAck();
        } catch (Throwable t) {
            held.release(); // pending in Redis now, for whoever claims it later
            remember(id, t);
            log.debug("handler of channel {} of {} failed on {} (delivery {})", channel, topic, id,
                    delivery.deliveryCount(), t);
        }
    }

    private void remember(String id, Throwable failure) {
        if (lastFailure.size() < MAX_REMEMBERED_FAILURES) {
            lastFailure.put(id, failure.getClass().getSimpleName() + ": " + failure.getMessage());
        }
    }

    /**
     * Acknowledges the finished messages, one XACK at a time: everything that finishes while an XACK
     * travels goes in the next one, so a busy channel sends far fewer XACKs than messages and an
     * idle one acknowledges at once. Runs on the caller's thread (the XACK is sent asynchronously)
     * and again when Redis answers.
     */
    private void scheduleAck() {
        while ((!toAck.isEmpty() || !reAck.isEmpty()) && acking.compareAndSet(false, true)) {
            if (sendAcks()) {
                return; // its answer calls this again
            }
            acking.set(false); // someone else took the ids; look again for ones added meanwhile
        }
    }

    /** One XACK for everything finished so far; false when there was nothing to send. */
    private boolean sendAcks() {
        List<String> ids = new ArrayList<>();
        String id;
        while ((id = toAck.poll()) != null) {
            ids.add(id);
        }
        int holding = ids.size();
        while ((id = reAck.poll()) != null) {
            ids.add(id);
        }
        if (ids.isEmpty()) {
            return false;
        }
        CompletableFuture<Long> sent = pubsub.binary.xack(key, channel, ids.toArray(String[]::new)).toCompletableFuture();
        lastAck = sent;
        sent.whenComplete((acked, failure) -> {
            held.release(holding);
            if (failure != null) {
                // Unacknowledged messages are redelivered after redeliverAfter: at least once still holds.
                log.debug("acknowledging {} messages of {} failed: {}", ids.size(), topic, failure.getMessage());
            }
            acking.set(false);
            scheduleAck();
        });
        return true;
    }

    /** Sends what is left to acknowledge and waits (up to 5 s) until Redis has answered every XACK. */
    private void drainAcks() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        scheduleAck();
        while ((acking.get() || !toAck.isEmpty() || !reAck.isEmpty()) && deadline - System.nanoTime() > 0) {
            try {
                lastAck.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException failed) {
                // logged where it was sent
            } catch (java.util.concurrent.TimeoutException e) {
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            Thread.onSpinWait(); // between an XACK's answer and the next send
            scheduleAck();
        }
    }

    /** Claims messages pending too long in this channel; dead-letters those out of deliveries. */
    private void claimStale(RedisClusterAsyncCommands<String, byte[]> commands) throws Exception {
        long idleMillis = options.redeliverAfter().toMillis();
        List<PendingMessage> stale = commands.xpending(key, new XPendingArgs<String>().group(channel)
                        .idle(idleMillis).range(Range.create("-", "+")).limit(Limit.from(pubsub.batchSize)))
                .get(5, TimeUnit.SECONDS);
        for (PendingMessage pending : stale) {
            if (closed.get()) {
                return;
            }
            if (pending.getRedeliveryCount() >= options.maxDeliveries()) {
                deadLetter(pending);
                continue;
            }
            held.acquire();
            List<StreamMessage<String, byte[]>> claimed;
            try {
                claimed = commands.xclaim(key, consumer, XClaimArgs.Builder.minIdleTime(idleMillis), pending.getId())
                        .get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                held.release();
                throw e;
            }
            if (claimed.isEmpty()) {
                held.release();
            }
            for (StreamMessage<String, byte[]> entry : claimed) {
                dispatch(entry.getId(), entry.getBody(), (int) Math.min(Integer.MAX_VALUE, pending.getRedeliveryCount() + 1));
            }
            if (claimed.isEmpty()) {
                // Claimed by someone else meanwhile, or the entry is gone: a gone entry must not stay pending forever.
                long gone = commands.xrange(key, RedisPubsub.only(pending.getId())).get(5, TimeUnit.SECONDS).size();
                if (gone == 0) {
                    commands.xack(key, channel, pending.getId());
                }
            }
        }
    }

    private void deadLetter(PendingMessage pending) throws Exception {
        String reason = lastFailure.getOrDefault(pending.getId(),
                "not acknowledged after " + pending.getRedeliveryCount() + " deliveries");
        Long moved = pubsub.redis.<Long>eval(DEAD, ScriptOutputType.INTEGER,
                new String[] {key, RedisPubsub.deadKey(topic)}, channel, pending.getId(), reason,
                Long.toString(pending.getRedeliveryCount())).get(5, TimeUnit.SECONDS);
        lastFailure.remove(pending.getId());
        if (moved == 1L) {
            pubsub.listener.deadLettered(topic, channel);
            log.warn("message {} of {} moved to the dead letters of channel {} after {} deliveries: {}", pending.getId(),
                    topic, channel, pending.getRedeliveryCount(), reason);
        }
    }

    static Message toMessage(String id, String topic, Map<String, byte[]> fields, int deliveryCount) {
        Map<String, String> headers = Map.of(); // most messages have none: no map made for them
        byte[] body = new byte[0];
        for (Map.Entry<String, byte[]> field : fields.entrySet()) {
            if (field.getKey().equals(RedisTopic.BODY)) {
                body = field.getValue();
            } else if (field.getKey().startsWith(RedisTopic.HEADER)) {
                if (headers.isEmpty()) {
                    headers = new LinkedHashMap<>();
                }
                headers.put(field.getKey().substring(RedisTopic.HEADER.length()),
                        new String(field.getValue(), StandardCharsets.UTF_8));
            }
        }
        return new Message(id, topic, headers, body, deliveryCount);
    }

    static Map<String, Object> pairs(List<?> flat) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            map.put(String.valueOf(flat.get(i)), flat.get(i + 1));
        }
        return map;
    }

    /**
     * Stops reading, lets running handlers finish (up to 10 s), acknowledges what they finished,
     * and leaves the group. A blocking read is not waited out: the reader's connection is closed,
     * which ends it at once. What Redis handed to that read but this consumer never received
     * stays pending for it, unacknowledged, and another consumer of the channel claims it after
     * {@code redeliverAfter}; a batch that did arrive is handled. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        pubsub.channels.remove(this);
        StatefulConnection<String, byte[]> connection;
        Thread running;
        synchronized (this) {
            connection = readConnection;
            running = reader;
        }
        if (connection != null) {
            connection.close(); // a blocking XREADGROUP fails now instead of at the end of its block
        }
        if (running != null) {
            // Also ends a wait for a handler slot or a backoff. A batch already received is
            // dispatched before the reader looks at the flag again; one not received stays pending.
            // A handler the reader runs itself (inline) is not interrupted: it finishes, and the
            // reader then sees the flag.
            synchronized (this) {
                if (!handling) {
                    running.interrupt();
                }
            }
            try {
                running.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            // Let running handlers finish: take every slot back, then acknowledge what they did.
            if (slots.tryAcquire(options.concurrency(), 10, TimeUnit.SECONDS)) {
                slots.release(options.concurrency());
            }
            if (running != null && inline) {
                running.join(TimeUnit.SECONDS.toMillis(1)); // it hands what its handler finished to drainAcks
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drainAcks(); // before leaving the group, which looks at what this consumer still holds
        leaveGroup();
    }

    /**
     * Removes this consumer from the group when it holds nothing (deleting a consumer drops its
     * pending messages, so one that holds some stays for others to claim from). An ephemeral
     * channel is removed with its last consumer.
     */
    private void leaveGroup() {
        try {
            long holding = pubsub.binary.xpending(key, consumer, Range.create("-", "+"), Limit.from(1))
                    .get(5, TimeUnit.SECONDS).size();
            if (holding == 0) {
                pubsub.binary.xgroupDelconsumer(key, consumer).get(5, TimeUnit.SECONDS);
            }
            if (!options.durable()) {
                List<Object> consumers = pubsub.binary.xinfoConsumers(key, channel).get(5, TimeUnit.SECONDS);
                if (consumers.isEmpty()) {
                    pubsub.binary.xgroupDestroy(key, channel).get(5, TimeUnit.SECONDS);
                    pubsub.binary.hdel(RedisPubsub.ephemeralKey(topic), channel).get(5, TimeUnit.SECONDS);
                }
            }
        } catch (Exception e) {
            log.debug("channel {} of {}: leaving the group failed ({}); an idle consumer entry stays behind", channel,
                    topic, e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "StreamChannel{" + topic + "/" + channel + " as " + consumerName + "}";
    }
}
