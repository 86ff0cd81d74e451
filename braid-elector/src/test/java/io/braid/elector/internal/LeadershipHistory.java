package io.braid.elector.internal;

import io.braid.api.Elector;
import io.braid.api.Role;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Samples who believes it leads, every millisecond or so, and keeps each belief as an interval
 * (node, epoch, first and last wall-clock time seen). The checker: no two nodes' intervals
 * overlap, and epochs grow from one leadership to the next.
 */
final class LeadershipHistory implements AutoCloseable {
    record Interval(String node, long epoch, long fromMillis, long toMillis) {
    }

    private final Map<String, Elector> electors = new ConcurrentHashMap<>();
    private final List<Interval> closed = new ArrayList<>();
    private final Map<String, Interval> open = new ConcurrentHashMap<>();
    private final Thread sampler;
    private volatile boolean running = true;

    LeadershipHistory() {
        sampler = Thread.ofPlatform().daemon().name("leadership-sampler").start(this::sample);
    }

    void watch(String node, Elector elector) {
        electors.put(node, elector);
    }

    /** Adds intervals observed elsewhere (another process). */
    synchronized void add(Interval interval) {
        closed.add(interval);
    }

    private void sample() {
        while (running) {
            electors.forEach((node, elector) -> {
                long now = System.currentTimeMillis();
                boolean leads = elector.role() == Role.LEADER;
                long epoch = elector.epoch();
                Interval current = open.get(node);
                if (leads && current != null && current.epoch() == epoch) {
                    open.put(node, new Interval(node, epoch, current.fromMillis(), now));
                } else {
                    if (current != null) {
                        finish(current);
                        open.remove(node);
                    }
                    if (leads) {
                        open.put(node, new Interval(node, epoch, now, now));
                    }
                }
            });
            try {
                TimeUnit.MICROSECONDS.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void finish(Interval interval) {
        closed.add(interval);
    }

    synchronized List<Interval> intervals() {
        List<Interval> all = new ArrayList<>(closed);
        all.addAll(open.values());
        all.sort(Comparator.comparingLong(Interval::fromMillis));
        return all;
    }

    /** Every violation of the two rules, as text; empty when the history is sound. */
    List<String> violations() {
        List<Interval> all = intervals();
        List<String> found = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                Interval a = all.get(i);
                Interval b = all.get(j);
                if (!a.node().equals(b.node()) && b.fromMillis() <= a.toMillis()) {
                    found.add("overlap: " + a + " and " + b);
                }
                if (!a.node().equals(b.node()) && b.epoch() <= a.epoch()) {
                    found.add("epoch did not grow: " + a + " then " + b);
                }
            }
        }
        return found;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        sampler.join(2000);
    }
}
