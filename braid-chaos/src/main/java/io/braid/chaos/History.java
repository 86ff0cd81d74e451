package io.braid.chaos;

import io.braid.api.Code;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Everything that happened in one run, merged from every node process and the orchestrator.
 * Times are wall-clock microseconds since the epoch. Thread-safe: events arrive on many threads.
 */
final class History {
    /** A node's handler for a token call ran from {@code start} to {@code end}. */
    record Served(String node, String token, long start, long end) {
    }

    /** A node saw itself leader of its service with this epoch over [from, to]. */
    record Leadership(String node, String service, long epoch, long from, long to) {
    }

    /** A node handled a message of a channel (and then acknowledged it). */
    record Handled(String node, String channel, String id, String seq, long at, int deliveryCount) {
    }

    /**
     * A node handled message {@code seq} of a token's stream ({@code stream}: the bot's k-th
     * stream of that token), from {@code start} to {@code end}.
     */
    record Streamed(String node, String token, String stream, String seq, long start, long end) {
    }

    /** The election epoch a node has seen changed to {@code epoch} at {@code at}. */
    record EpochSeen(String node, String service, long epoch, long at) {
    }

    /** The orchestrator relinked a player to {@code node}; the relink was stored by {@code at}. */
    record Relinked(String token, String node, long at) {
    }

    /**
     * A bot's call: {@code outcome} OK or the failure's code; {@code hung} when it never completed.
     * An OK call also has what the bot was told: the logic node that served it ({@code servedBy})
     * and the player's counter after it ({@code counter}); a failed one has "" and {@link #NO_COUNTER}.
     */
    record BotCall(String token, long start, long end, long deadlineMicros, Code outcome, boolean hung,
                   String servedBy, long counter) {
        /** The counter of a call whose answer carried none (it failed, or the answer was not "node count"). */
        static final long NO_COUNTER = -1;

        /** A call whose answer carries no counter. */
        BotCall(String token, long start, long end, long deadlineMicros, Code outcome, boolean hung) {
            this(token, start, end, deadlineMicros, outcome, hung, "", NO_COUNTER);
        }

        boolean ok() {
            return outcome == Code.OK;
        }
    }

    /** A publish sent at {@code sentAt} that the store acknowledged with {@code id} at {@code ackedAt}. */
    record Published(String seq, String id, long sentAt, long ackedAt) {
    }

    /** The orchestrator JVM was unable to run from {@code from} to {@code to}. */
    record Stall(long from, long to) {
    }

    /** The orchestrator held a node's process stopped (SIGSTOP sent at from, SIGCONT sent at to). */
    record Frozen(String node, long from, long to) {
    }

    final Queue<Served> served = new ConcurrentLinkedQueue<>();
    final Queue<Handled> handled = new ConcurrentLinkedQueue<>();
    final Queue<Streamed> streamed = new ConcurrentLinkedQueue<>();
    final Queue<EpochSeen> epochs = new ConcurrentLinkedQueue<>();
    final Queue<Relinked> relinked = new ConcurrentLinkedQueue<>();
    /** The bots' side of the streams: what was sent, answered, and how streams ended. */
    final StreamStats streamStats = new StreamStats();
    final Queue<BotCall> calls = new ConcurrentLinkedQueue<>();
    final Queue<Published> published = new ConcurrentLinkedQueue<>();
    final Queue<Frozen> frozen = new ConcurrentLinkedQueue<>();
    final Queue<FaultRecord> faults = new ConcurrentLinkedQueue<>();
    /** Times the orchestrator JVM itself could not run (see {@link StallProbe}). */
    final Queue<Stall> stalls = new ConcurrentLinkedQueue<>();
    private final Map<String, Leadership> leaderships = new HashMap<>();
    private volatile int failedPublishes;
    /**
     * When every bot had been served once (wall micros): calls before it are the warm-up of a
     * cold cluster and a cold test JVM, reported apart and left out of the deadline check.
     */
    volatile long warmedUpAt;

    /** Parses one line of a node's {@link EventLog}; lines of other shapes (logs) are ignored. */
    void accept(String line) {
        String[] f = line.split(" ");
        try {
            switch (f[0]) {
                case EventLog.SERVED -> served.add(new Served(f[1], f[2], Long.parseLong(f[3]), Long.parseLong(f[4])));
                case EventLog.LEADING -> lead(new Leadership(f[1], f[2], Long.parseLong(f[3]), Long.parseLong(f[4]),
                        Long.parseLong(f[5])));
                case EventLog.HANDLED -> handled.add(new Handled(f[1], f[2], f[3], f[4], Long.parseLong(f[5]),
                        Integer.parseInt(f[6])));
                case EventLog.STREAMED -> streamed.add(new Streamed(f[1], f[2], f[3], f[4], Long.parseLong(f[5]),
                        Long.parseLong(f[6])));
                case EventLog.EPOCH -> epochs.add(new EpochSeen(f[1], f[2], Long.parseLong(f[3]), Long.parseLong(f[4])));
                default -> {
                }
            }
        } catch (RuntimeException malformed) {
            // a line cut short by SIGKILL: the event never fully happened as far as we know
        }
    }

    private synchronized void lead(Leadership update) {
        leaderships.merge(update.node() + "|" + update.epoch(), update, (a, b) -> new Leadership(a.node(), a.service(), a.epoch(),
                Math.min(a.from(), b.from()), Math.max(a.to(), b.to())));
    }

    synchronized List<Leadership> leaderships() {
        return new ArrayList<>(leaderships.values());
    }

    /** Counters of the bots' streams, for the report. Thread-safe. */
    static final class StreamStats {
        final java.util.concurrent.atomic.AtomicLong opened = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong answered = new java.util.concurrent.atomic.AtomicLong();
        /** How streams ended, by code (a bot opens a new one after each). */
        final Map<Code, java.util.concurrent.atomic.AtomicLong> ended = new java.util.concurrent.ConcurrentHashMap<>();

        void ended(Code code) {
            ended.computeIfAbsent(code, c -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
        }
    }

    void publishFailed() {
        synchronized (this) {
            failedPublishes++;
        }
    }

    int failedPublishes() {
        return failedPublishes;
    }
}
