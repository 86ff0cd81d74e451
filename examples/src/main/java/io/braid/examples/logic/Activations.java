package io.braid.examples.logic;

import io.braid.api.PlayerStates.Deactivation;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * What one logic node records of each activation of a player, for the check that no player was
 * served by two nodes at once ({@link #servedByTwoAtOnce}).
 *
 * <p>An activation <b>serves</b> from the start of its first handler to its end. Its end is its
 * deactivation, except for an activation handed over to another node: its end is then the
 * snapshot that began the hand-over, when no handler of it ran after that snapshot (the hand-over
 * holds the player's lane from the snapshot to the deactivation, so nothing of the player runs on
 * this node in between, while the new owner may already serve it). An activation that never ran a
 * handler never served. Times are {@link System#nanoTime()}, so records of different nodes compare
 * only within one JVM (the demo runs every node in one).
 *
 * <p>Thread-safe: an {@link Entry} is written in its player's lane and read by {@link #served()}
 * from any thread.
 */
public final class Activations {
    /**
     * When one activation served: {@code fromNanos} its first handler, {@code untilNanos} its end
     * ({@link Long#MAX_VALUE} while it is still active).
     */
    public record Served(String token, String node, long epoch, long fromNanos, long untilNanos) {
        public Served {
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(node, "node");
        }

        boolean overlaps(Served other) {
            return fromNanos < other.untilNanos && other.fromNanos < untilNanos;
        }

        @Override
        public String toString() {
            return node + " (epoch " + epoch + ") from " + fromNanos + " until "
                    + (untilNanos == Long.MAX_VALUE ? "now" : Long.toString(untilNanos));
        }
    }

    /** Two activations of one token on different nodes that served at overlapping times. */
    public record Overlap(Served first, Served second) {
        @Override
        public String toString() {
            return first.token() + ": " + first + " and " + second;
        }
    }

    private final ConcurrentLinkedQueue<Entry> entries = new ConcurrentLinkedQueue<>();
    private final Map<Deactivation, LongAdder> ended = new EnumMap<>(Deactivation.class);
    private final AtomicInteger active = new AtomicInteger();

    Activations() {
        for (Deactivation why : Deactivation.values()) {
            ended.put(why, new LongAdder());
        }
    }

    /** An activation of {@code token} on {@code node} under {@code epoch} began at {@code nanos}. */
    Entry begin(String token, String node, long epoch, long nanos) {
        Entry entry = new Entry(token, node, epoch, nanos);
        entries.add(entry);
        active.incrementAndGet();
        return entry;
    }

    /** When each activation of this node that ran a handler served, the active ones until {@link Long#MAX_VALUE}. */
    public List<Served> served() {
        List<Served> served = new ArrayList<>();
        for (Entry entry : entries) {
            Served one = entry.served();
            if (one != null) {
                served.add(one);
            }
        }
        return served;
    }

    /** Activations that ended for {@code why}. */
    public long ended(Deactivation why) {
        return ended.get(why).sum();
    }

    /** Activations that have not ended. */
    public int active() {
        return active.get();
    }

    /**
     * The pairs of activations of one token on two different nodes whose serving times overlap, in
     * {@code served} of any number of nodes (of one JVM). Empty: no player was served by two nodes at once.
     */
    public static List<Overlap> servedByTwoAtOnce(Collection<Served> served) {
        Map<String, List<Served>> byToken = served.stream().collect(Collectors.groupingBy(Served::token));
        List<Overlap> overlaps = new ArrayList<>();
        byToken.keySet().stream().sorted().forEach(token -> {
            List<Served> ofToken = byToken.get(token).stream().sorted(Comparator.comparingLong(Served::fromNanos))
                    .toList();
            for (int i = 0; i < ofToken.size(); i++) {
                for (int j = i + 1; j < ofToken.size(); j++) {
                    Served a = ofToken.get(i);
                    Served b = ofToken.get(j);
                    if (!a.node().equals(b.node()) && a.overlaps(b)) {
                        overlaps.add(new Overlap(a, b));
                    }
                }
            }
        });
        return overlaps;
    }

    /** One activation's record; written in its player's lane. */
    final class Entry {
        private final String token;
        private final String node;
        private final long epoch;
        private final long activatedNanos;
        private volatile boolean hasServed;
        private volatile long firstHandlerNanos;
        private volatile long lastHandlerNanos;
        private volatile boolean snapshotted;
        private volatile long snapshotNanos;
        private volatile long endNanos;
        private volatile boolean ended;

        private Entry(String token, String node, long epoch, long activatedNanos) {
            this.token = token;
            this.node = node;
            this.epoch = epoch;
            this.activatedNanos = activatedNanos;
        }

        /** A handler of this activation starts at {@code nanos}. */
        void serving(long nanos) {
            if (!hasServed) {
                firstHandlerNanos = nanos;
                hasServed = true;
            }
            lastHandlerNanos = nanos;
        }

        /** The state was snapshotted at {@code nanos} (a hand-over begins). */
        void snapshotTaken(long nanos) {
            snapshotNanos = nanos;
            snapshotted = true;
        }

        /** The activation ended at {@code nanos}, for {@code why}. Once; later calls are ignored. */
        void end(Deactivation why, long nanos) {
            if (ended) {
                return;
            }
            boolean handedOver = why == Deactivation.MOVED && snapshotted
                    && (!hasServed || snapshotNanos - lastHandlerNanos > 0);
            endNanos = handedOver ? snapshotNanos : nanos;
            ended = true;
            ended(why);
        }

        private void ended(Deactivation why) {
            Activations.this.ended.get(why).increment();
            active.decrementAndGet();
        }

        Served served() {
            if (!hasServed) {
                return null;
            }
            return new Served(token, node, epoch, firstHandlerNanos, ended ? endNanos : Long.MAX_VALUE);
        }

        @Override
        public String toString() {
            return token + " on " + node + " (epoch " + epoch + ", activated at " + activatedNanos + ")";
        }
    }
}
