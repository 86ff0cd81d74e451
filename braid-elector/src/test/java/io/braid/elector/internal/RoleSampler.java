package io.braid.elector.internal;

import io.braid.api.Elector;
import io.braid.api.Role;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads {@code role()} and {@code epoch()} of every watched elector in a tight loop, each read
 * stamped with {@link System#nanoTime()} before and after it, and keeps what it saw as leaderships:
 * a maximal run of LEADER samples of one node with one epoch. A leadership counts only from the end
 * of its first LEADER read to the start of its last one, the stretch in which that node certainly
 * believed it led, so {@link #overlaps()} reports only overlaps that really happened (none invented
 * by sampling) and still catches any that lasts longer than one sampling round.
 *
 * <p>It also checks, on every sample, that no node's {@code epoch()} ever goes down.
 */
final class RoleSampler implements AutoCloseable {
    record Leadership(String node, long epoch, long fromNanos, long toNanos) {
        boolean certain() {
            return toNanos > fromNanos;
        }
    }

    private record Watched(String node, Elector elector) {
    }

    private final List<Watched> watched = new CopyOnWriteArrayList<>();
    private final Map<String, Leadership> open = new HashMap<>();
    private final Map<String, Long> lastEpoch = new HashMap<>();
    private final Map<String, Long> lowestEpoch = new HashMap<>();
    private final List<Leadership> done = new ArrayList<>();
    private final List<String> epochFalls = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long rounds;
    private long highestEpoch;

    RoleSampler() {
        thread = Thread.ofPlatform().daemon().name("role-sampler").start(this::run);
    }

    void watch(String node, Elector elector) {
        watched.add(new Watched(node, elector));
    }

    private void run() {
        while (running) {
            for (Watched w : watched) {
                long before = System.nanoTime();
                Role role = w.elector().role();
                long epoch = w.elector().epoch();
                long after = System.nanoTime();
                record(w.node(), role == Role.LEADER, epoch, before, after);
            }
            rounds++;
            LockSupport.parkNanos(100_000);
        }
    }

    private synchronized void record(String node, boolean leads, long epoch, long before, long after) {
        Long last = lastEpoch.put(node, epoch);
        if (last != null && epoch < last) {
            epochFalls.add(node + ": epoch went down from " + last + " to " + epoch);
        }
        highestEpoch = Math.max(highestEpoch, epoch);
        if (epoch != 0) {
            lowestEpoch.merge(node, epoch, Math::min);
        }
        Leadership current = open.get(node);
        if (current != null && (!leads || current.epoch() != epoch)) {
            done.add(current);
            open.remove(node);
            current = null;
        }
        if (leads) {
            // From the end of the first LEADER read to the start of the latest one.
            open.put(node, current == null ? new Leadership(node, epoch, after, before)
                    : new Leadership(node, epoch, current.fromNanos(), before));
        }
    }

    /** Waits for one more full sampling round, so every watched node has been read after this call. */
    void awaitRound() {
        long target = rounds + 2;
        while (rounds < target && running) {
            LockSupport.parkNanos(100_000);
        }
    }

    /** The highest epoch any watched node reported so far. */
    synchronized long highestEpoch() {
        return highestEpoch;
    }

    /** The lowest epoch other than 0 (nothing known yet) that {@code node} ever reported; 0 if none. */
    synchronized long lowestEpoch(String node) {
        return lowestEpoch.getOrDefault(node, 0L);
    }

    synchronized List<Leadership> leaderships() {
        List<Leadership> all = new ArrayList<>(done);
        all.addAll(open.values());
        all.sort(Comparator.comparingLong(Leadership::fromNanos));
        return all;
    }

    /** Every moment two nodes both led for certain, as text; empty when there was none. */
    List<String> overlaps() {
        List<Leadership> all = leaderships().stream().filter(Leadership::certain).toList();
        List<String> found = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                Leadership a = all.get(i);
                Leadership b = all.get(j);
                long overlap = Math.min(a.toNanos(), b.toNanos()) - Math.max(a.fromNanos(), b.fromNanos());
                if (!a.node().equals(b.node()) && overlap > 0) {
                    found.add(String.format("%s (epoch %d) and %s (epoch %d) both led for %.1f ms", a.node(), a.epoch(),
                            b.node(), b.epoch(), overlap / 1e6));
                }
            }
        }
        return found;
    }

    /** Every time a node's epoch went down, as text. */
    synchronized List<String> epochFalls() {
        return List.copyOf(epochFalls);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(2000);
    }
}
