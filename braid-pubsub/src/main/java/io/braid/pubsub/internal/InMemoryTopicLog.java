package io.braid.pubsub.internal;

import io.braid.api.DeadLetter;
import io.braid.api.Message;
import io.braid.api.Ticker;
import io.braid.api.internal.TopicStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One topic of an {@link InMemoryStreams}: what a Redis stream, its consumer groups and its
 * dead-letter stream hold, behind one lock.
 *
 * <p>The log is append-only; ids are {@code <seq>-0} with {@code seq} counting from 1. A group (a
 * channel) has the last sequence it handed out and a pending map: each message handed out and
 * not yet acknowledged, with its consumer, delivery count, last delivery time and last failure.
 * The pending map is kept in delivery-time order (a redelivery moves the entry to the end), so
 * the first entry is always the one to become stale first. Each group has its own condition;
 * consumers wait on it for a publish or, timed, for the oldest pending message to become stale.
 *
 * <p>Thread-safe: every method takes the lock, and none calls user code while holding it.
 */
final class InMemoryTopicLog {
    private final String topic;
    /** The clock of delivery times and staleness: the in-memory counterpart of Redis' clock. */
    private final Ticker ticker;
    private final ReentrantLock lock = new ReentrantLock();
    private final NavigableMap<Long, Entry> entries = new TreeMap<>();
    private final Map<String, Group> groups = new HashMap<>();
    private final NavigableMap<Long, DeadLetter> deadLetters = new TreeMap<>();
    private long lastSeq;
    private long lastDeadSeq;

    InMemoryTopicLog(String topic, Ticker ticker) {
        this.topic = topic;
        this.ticker = ticker;
    }

    /** One message of the log; the body is this log's own copy. */
    record Entry(long seq, Map<String, String> headers, byte[] body) {
        String id() {
            return idOf(seq);
        }
    }

    /** What a consumer took: the message to hand to its handler, and where to acknowledge it. */
    record Delivery(Group group, long seq, Message message) {
    }

    /** A channel: a consumer group. Guarded by the log's lock. */
    static final class Group {
        final String name;
        final Condition changed;
        final Set<Object> consumers = new HashSet<>();
        /** Handed out and not acknowledged, oldest delivery first. */
        final LinkedHashMap<Long, Pending> pending = new LinkedHashMap<>();
        long lastDelivered;

        private Group(String name, Condition changed, long lastDelivered) {
            this.name = name;
            this.changed = changed;
            this.lastDelivered = lastDelivered;
        }
    }

    private static final class Pending {
        final long seq;
        String consumer;
        int deliveries;
        long deliveredAtNanos;
        String lastFailure;

        Pending(long seq, String consumer, long deliveredAtNanos) {
            this.seq = seq;
            this.consumer = consumer;
            this.deliveries = 1;
            this.deliveredAtNanos = deliveredAtNanos;
        }
    }

    static String idOf(long seq) {
        return seq + "-0";
    }

    String topic() {
        return topic;
    }

    /** Appends a message (the caller's copies of body and headers) and wakes every channel. */
    String append(Map<String, String> headers, byte[] body) {
        lock.lock();
        try {
            long seq = ++lastSeq;
            entries.put(seq, new Entry(seq, headers, body));
            wakeEveryChannel();
            return idOf(seq);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Makes every waiting consumer look again at once: after a publish, or when the ticker was
     * moved (a consumer's timed wait for a pending message to go stale runs on real time).
     */
    void wakeEveryChannel() {
        lock.lock();
        try {
            for (Group group : groups.values()) {
                group.changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds {@code consumer} to the channel, creating the channel if it does not exist: at the end
     * of the log (only later messages) or, with {@code earliest}, before the oldest one it holds.
     * An existing channel keeps its position.
     */
    Group join(String channel, Object consumer, boolean earliest) {
        lock.lock();
        try {
            Group group = groups.get(channel);
            if (group == null) {
                long start = earliest && !entries.isEmpty() ? entries.firstKey() - 1 : lastSeq;
                group = new Group(channel, lock.newCondition(), start);
                groups.put(channel, group);
            }
            group.consumers.add(consumer);
            return group;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes {@code consumer} from its channel. An ephemeral channel goes with its last consumer,
     * its pending messages included; a durable one stays and keeps collecting messages.
     */
    void leave(Group group, Object consumer, boolean durable) {
        lock.lock();
        try {
            group.consumers.remove(consumer);
            if (!durable && group.consumers.isEmpty() && groups.get(group.name) == group) {
                groups.remove(group.name);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the next message for {@code consumer} of {@code group} and hands it out. Stale
     * pending messages (delivered longer than {@code redeliverAfterNanos} ago and not acknowledged)
     * come first: those delivered {@code maxDeliveries} times move to the dead letters, the next
     * one is claimed (its delivery count grows). Otherwise the next message the channel has not
     * seen is handed out. With neither, waits for a publish or until the oldest pending message
     * becomes stale. {@code onDeadLettered} hears how many messages it moved to the dead letters,
     * without the lock held.
     *
     * @throws InterruptedException when the consumer is closed (its dispatcher interrupted)
     */
    Delivery take(Group group, String consumer, long redeliverAfterNanos, int maxDeliveries,
                  java.util.function.IntConsumer onDeadLettered) throws InterruptedException {
        int[] dead = new int[1];
        lock.lockInterruptibly();
        try {
            while (true) {
                long now = ticker.read();
                Delivery delivery = claimStale(group, consumer, now, redeliverAfterNanos, maxDeliveries, dead);
                if (delivery == null) {
                    delivery = nextUnseen(group, consumer, now);
                }
                if (delivery != null) {
                    return delivery;
                }
                if (dead[0] > 0) {
                    // Tell about the dead letters now, not when the next message comes: outside the lock.
                    int count = dead[0];
                    dead[0] = 0;
                    lock.unlock();
                    try {
                        onDeadLettered.accept(count);
                    } finally {
                        lock.lock();
                    }
                    continue;
                }
                Iterator<Pending> oldest = group.pending.values().iterator();
                if (oldest.hasNext()) {
                    long staleIn = oldest.next().deliveredAtNanos + redeliverAfterNanos - now;
                    group.changed.awaitNanos(Math.max(staleIn, 1));
                } else {
                    group.changed.await(); // pending is empty: only a publish (which signals) brings work
                }
            }
        } finally {
            lock.unlock();
            if (dead[0] > 0) {
                onDeadLettered.accept(dead[0]);
            }
        }
    }

    private Delivery claimStale(Group group, String consumer, long now, long redeliverAfterNanos, int maxDeliveries,
                                int[] deadLettered) {
        Iterator<Pending> iterator = group.pending.values().iterator();
        while (iterator.hasNext()) {
            Pending pending = iterator.next();
            if (now - pending.deliveredAtNanos < redeliverAfterNanos) {
                return null; // delivery-time order: everything after this one is younger still
            }
            iterator.remove();
            Entry entry = entries.get(pending.seq);
            if (entry == null) {
                continue; // cannot happen (trim keeps pending messages); nothing left to deliver anyway
            }
            if (pending.deliveries >= maxDeliveries) {
                String reason = pending.lastFailure != null ? pending.lastFailure
                        : "not acknowledged after " + pending.deliveries + " deliveries";
                deadLetters.put(++lastDeadSeq, new DeadLetter(message(entry, pending.deliveries), group.name, reason));
                deadLettered[0]++;
                continue;
            }
            pending.consumer = consumer;
            pending.deliveries++;
            pending.deliveredAtNanos = now;
            group.pending.put(pending.seq, pending); // to the end: now the youngest delivery
            return new Delivery(group, pending.seq, message(entry, pending.deliveries));
        }
        return null;
    }

    private Delivery nextUnseen(Group group, String consumer, long now) {
        Long seq = entries.higherKey(group.lastDelivered);
        if (seq == null) {
            return null;
        }
        group.lastDelivered = seq;
        group.pending.put(seq, new Pending(seq, consumer, now));
        return new Delivery(group, seq, message(entries.get(seq), 1));
    }

    private Message message(Entry entry, int deliveryCount) {
        return new Message(entry.id(), topic, entry.headers(), entry.body().clone(), deliveryCount);
    }

    /** The handler returned: the message is done for this channel (whoever holds it now). */
    void ack(Delivery delivery) {
        lock.lock();
        try {
            delivery.group().pending.remove(delivery.seq());
        } finally {
            lock.unlock();
        }
    }

    /** The handler threw: the message stays pending, and {@code reason} is kept for its dead letter. */
    void fail(Delivery delivery, String reason) {
        lock.lock();
        try {
            Pending pending = delivery.group().pending.get(delivery.seq());
            if (pending != null) {
                pending.lastFailure = reason;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes the messages no channel needs any more: those below every channel's oldest pending
     * message and next unseen one. A topic without channels is left alone.
     *
     * @return how many messages were removed
     */
    long trim() {
        lock.lock();
        try {
            if (groups.isEmpty() || entries.isEmpty()) {
                return 0;
            }
            long keepFrom = Long.MAX_VALUE;
            for (Group group : groups.values()) {
                keepFrom = Math.min(keepFrom, group.lastDelivered + 1);
                for (Long seq : group.pending.keySet()) {
                    keepFrom = Math.min(keepFrom, seq);
                }
            }
            NavigableMap<Long, Entry> unneeded = entries.headMap(keepFrom, false);
            long removed = unneeded.size();
            unneeded.clear();
            return removed;
        } finally {
            lock.unlock();
        }
    }

    List<DeadLetter> deadLetters(int limit) {
        lock.lock();
        try {
            List<DeadLetter> letters = new ArrayList<>(Math.min(limit, deadLetters.size()));
            for (DeadLetter letter : deadLetters.values()) {
                if (letters.size() == limit) {
                    break;
                }
                letters.add(letter);
            }
            return letters;
        } finally {
            lock.unlock();
        }
    }

    /** Publishes up to {@code limit} dead letters again, marked with {@code replayHeader}, and removes them. */
    int replayDeadLetters(int limit, String replayHeader) {
        lock.lock();
        try {
            int replayed = 0;
            while (replayed < limit && !deadLetters.isEmpty()) {
                Message message = deadLetters.pollFirstEntry().getValue().message();
                Map<String, String> headers = new LinkedHashMap<>(message.headers());
                headers.put(replayHeader, message.id());
                append(Map.copyOf(headers), message.body()); // the dead letter's copy: nobody else holds it
                replayed++;
            }
            return replayed;
        } finally {
            lock.unlock();
        }
    }

    /** The topic's figures now: its size, dead letters, and each channel's consumers, backlog and pending. */
    TopicStats stats() {
        lock.lock();
        try {
            List<TopicStats.ChannelStats> channels = new ArrayList<>();
            for (Group group : new TreeMap<>(groups).values()) {
                long backlog = entries.tailMap(group.lastDelivered, false).size();
                channels.add(new TopicStats.ChannelStats(group.name, group.consumers.size(), backlog,
                        group.pending.size()));
            }
            return new TopicStats(topic, entries.size(), deadLetters.size(), channels);
        } finally {
            lock.unlock();
        }
    }

    /** Messages handed out to the channel and not acknowledged; 0 for an unknown channel. */
    int pendingCount(String channel) {
        lock.lock();
        try {
            Group group = groups.get(channel);
            return group == null ? 0 : group.pending.size();
        } finally {
            lock.unlock();
        }
    }

    Set<String> channels() {
        lock.lock();
        try {
            return Set.copyOf(groups.keySet());
        } finally {
            lock.unlock();
        }
    }

    int consumerCount() {
        lock.lock();
        try {
            int count = 0;
            for (Group group : groups.values()) {
                count += group.consumers.size();
            }
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** Messages the log holds (published and not trimmed). */
    int size() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }
}
