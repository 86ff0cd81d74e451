package io.braid.monitor.internal;

import io.braid.api.Ticker;
import io.braid.monitor.TracePlayers;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A node's hottest players: the calls each ran in its lane, and their run time, over the last
 * minute. Two windows of 30 s (by the ticker): the current one and the one before; the figures
 * are their sum, so they cover the last 30 to 60 s. Each window is a space-saving sketch of
 * {@code capacity} counters: a player new to a full window takes the counter of the one with the
 * fewest calls and inherits its count (so a count is an over-estimate by at most that inherited
 * count, and every player with more than 1/capacity of the window's calls holds a counter). Memory
 * is bounded: 2 × capacity counters (token, two longs) whatever the number of players.
 *
 * <p>Thread-safe: {@link #record} takes this object's monitor for a map lookup and two additions
 * (a scan of the counters only when a new player meets a full window).
 */
final class HotPlayers {
    /** Players in each list. */
    static final int TOP = 10;
    static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(30);

    private static final class Counter {
        String token;
        long calls;
        long runNanos;
    }

    private final int capacity;
    private final Ticker ticker;
    private final TracePlayers players;
    private Map<String, Counter> current;
    private Map<String, Counter> previous;
    private long windowStart;

    /** @param capacity counters per window, at least {@link #TOP} */
    HotPlayers(int capacity, Ticker ticker, TracePlayers players) {
        if (capacity < TOP) {
            throw new IllegalArgumentException("hot players capacity must be at least " + TOP + ", was " + capacity);
        }
        this.capacity = capacity;
        this.ticker = ticker;
        this.players = players;
        this.current = new HashMap<>(capacity * 2);
        this.previous = new HashMap<>(capacity * 2);
        this.windowStart = ticker.read();
    }

    /** A call of {@code token} ran {@code runNanos} in its lane. */
    synchronized void record(String token, long runNanos) {
        rotate(ticker.read());
        Counter counter = current.get(token);
        if (counter == null) {
            if (current.size() < capacity) {
                counter = new Counter();
                counter.token = token;
            } else {
                counter = fewest(current);
                current.remove(counter.token);
                counter.token = token; // its count stays: the new player's bound
                counter.runNanos = 0;
            }
            current.put(token, counter);
        }
        counter.calls++;
        counter.runNanos += Math.max(0, runNanos);
    }

    private static Counter fewest(Map<String, Counter> window) {
        Counter fewest = null;
        for (Counter c : window.values()) {
            if (fewest == null || c.calls < fewest.calls) {
                fewest = c;
            }
        }
        return fewest;
    }

    private void rotate(long now) {
        long elapsed = now - windowStart; // overflow-safe difference of two readings
        if (elapsed < WINDOW_NANOS) {
            return;
        }
        Map<String, Counter> emptied = previous;
        emptied.clear();
        if (elapsed < 2 * WINDOW_NANOS) {
            previous = current;
            windowStart += WINDOW_NANOS;
        } else { // silent for a minute or more: both windows are stale
            current.clear();
            previous = current;
            windowStart = now;
        }
        current = emptied;
    }

    /**
     * The top {@link #TOP} players by calls (ties: by run time) as {@code [{player, calls,
     * runMillis}]}, players shown as the {@link TracePlayers} setting says; empty when it is OFF.
     */
    List<Map<String, Object>> byCalls() {
        return top(Comparator.comparingLong((long[] f) -> f[0]).thenComparingLong(f -> f[1]).reversed());
    }

    /** The top {@link #TOP} players by run time, in the same shape as {@link #byCalls()}. */
    List<Map<String, Object>> byRunTime() {
        return top(Comparator.comparingLong((long[] f) -> f[1]).thenComparingLong(f -> f[0]).reversed());
    }

    private List<Map<String, Object>> top(Comparator<long[]> order) {
        Map<String, long[]> sums = new HashMap<>();
        synchronized (this) {
            rotate(ticker.read());
            for (Map<String, Counter> window : List.of(previous, current)) {
                for (Counter c : window.values()) {
                    long[] sum = sums.computeIfAbsent(c.token, t -> new long[2]);
                    sum[0] += c.calls;
                    sum[1] += c.runNanos;
                }
            }
        }
        List<Map.Entry<String, long[]>> ranked = new ArrayList<>(sums.entrySet());
        ranked.sort(Map.Entry.comparingByValue(order));
        List<Map<String, Object>> json = new ArrayList<>();
        for (Map.Entry<String, long[]> entry : ranked) {
            if (json.size() == TOP) {
                break;
            }
            String shown = players.show(entry.getKey());
            if (shown == null) {
                continue;
            }
            Map<String, Object> player = new LinkedHashMap<>();
            player.put("player", shown);
            player.put("calls", entry.getValue()[0]);
            player.put("runMillis", entry.getValue()[1] / 1e6);
            json.add(player);
        }
        return json;
    }
}
