package io.braid.bench.handoff;

import io.braid.bench.core.Goals;
import io.braid.bench.core.Pinning;
import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Suite;
import io.braid.bench.core.Window;
import io.braid.runtime.Braid;
import io.braid.runtime.InMemoryControlPlane;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Drain with handoff (issue 16): a logic node holding 10,000 players drains while a closed loop
 * of clicks (1x64) runs over all of them from a gateway; measured are the drain's time, the players
 * handed over, the clicks that failed, the click latency before, during and after the drain, and
 * whether every player's count still holds every click it was told about. Two cells: all nodes on
 * the in-memory control plane, and on one testkit {@code redis-server} (moved to the server core).
 * One drain per cell, no repeats: a drain is one event.
 */
public final class HandoffSuite implements Suite {
    public static final String GROUP = "handoff";
    /** Players drained: 10,000, or 1,000 in the smoke window. */
    static final int PLAYERS = 10_000;
    private static final int SMOKE_PLAYERS = 1_000;
    static final int IN_FLIGHT = 64;
    static final String BEFORE = "before the drain";
    static final String DURING = "during the drain";
    static final String AFTER = "after the drain";
    /** Issue 16's goal for the drain's time on this machine. */
    static final Duration DRAIN_GOAL = Duration.ofSeconds(5);
    private static final Duration MAX_WARMUP = Duration.ofSeconds(2);
    private static final Duration MAX_MEASURE = Duration.ofSeconds(3);
    /** Clicks before the unmeasured warm-up drain (1 s in the smoke window). */
    private static final Duration PRE_WARM = Duration.ofSeconds(8);

    @Override
    public String name() {
        return GROUP;
    }

    @Override
    public void run(Report report, Window window) throws Exception {
        int players = window.sized(PLAYERS, SMOKE_PLAYERS);
        Duration preWarm = window.equals(Window.SMOKE) ? Duration.ofSeconds(1) : PRE_WARM;
        report.section(GROUP, String.format(Locale.ROOT,
                "Handoff: drain a logic node holding %,d players under a click load", players));
        Window capped = window.capped(MAX_WARMUP, MAX_MEASURE);
        report.note(GROUP, String.format(Locale.ROOT, """
                Logic nodes A and B (players: a click counter, an 8 B snapshot; one event-loop thread each) and a \
                gateway, all braid nodes in this JVM. %,d players are activated on A (one click each), then B \
                starts; a closed loop of clicks (1x64, tokens round robin over all players, 5 s call timeout) runs \
                from the gateway: %d ms warm-up, %d ms measured before the drain, then `A.drain()` (which hands \
                each player over to B in batches of 256, 2 at a time, then closes A) measured until its future completes, then %d ms \
                after. One drain per cell (no repeats), after an unmeasured drain of %,d players (after %d s of \
                clicks) that compiles the paths first; the Redis cell's redis-server runs on CPU %d. B/op and CPU µs/op count this whole JVM (gateway and both \
                logic nodes) per successful click. A failed click counts in the phase in which it ended.""",
                players, capped.warmup().toMillis(), capped.measure().toMillis(), capped.measure().toMillis(),
                players / 5, preWarm.toSeconds(), Pinning.SERVER_CORE));
        // Unmeasured: a drain of a fifth of the players after 8 s of clicks, so the first cell's
        // "before" window does not pay for compiling the click and handoff paths (the JIT shares the
        // CPUs with the load; with 2 s of warm-up alone "before" came out at half of "after").
        new DrainRun(players / 5, IN_FLIGHT, inMemory()).run(preWarm, Duration.ofSeconds(1));
        runCell(report, players, "in-memory plane",
                () -> new DrainRun(players, IN_FLIGHT, inMemory()).run(capped.warmup(), capped.measure()));
        runCell(report, players, "one Redis", () -> {
            try (RedisServer redis = RedisServer.start()) {
                Pinning.toServerCore(redis.pid());
                return new DrainRun(players, IN_FLIGHT, builder -> builder.redis(redis.uri()))
                        .run(capped.warmup(), capped.measure());
            }
        });
    }

    /** Puts nodes on a new in-memory control plane of their own. */
    private static UnaryOperator<Braid.Builder> inMemory() {
        InMemoryControlPlane plane = new InMemoryControlPlane("bench-handoff-" + System.nanoTime());
        return builder -> builder.inMemory(plane);
    }

    /** Runs one cell. */
    @FunctionalInterface
    interface Cell {
        DrainRun.Result run() throws Exception;
    }

    private static void runCell(Report report, int players, String plane, Cell cell) throws Exception {
        String name = String.format(Locale.ROOT, "1x64 clicks, %,d players, %s", players, plane);
        DrainRun.Result result = cell.run();
        report.add(rows(name, result));
        report.note(GROUP, figures(name, result));
        if (!result.failureSamples().isEmpty()) {
            report.note(GROUP, "What the first failed click of each code said: " + result.failureSamples().entrySet()
                    .stream().map(e -> e.getKey() + ": \"" + e.getValue() + "\"").collect(Collectors.joining("; ")));
        }
        goals(report, players, plane, result);
    }

    static List<Row> rows(String cell, DrainRun.Result result) {
        return List.of(new Row(GROUP, cell, BEFORE, BEFORE, result.before().sample(), result.before().sample()),
                new Row(GROUP, cell, DURING, BEFORE, result.during().sample(), result.before().sample()),
                new Row(GROUP, cell, AFTER, BEFORE, result.after().sample(), result.before().sample()));
    }

    /** The drain's own figures, one paragraph per cell. */
    static String figures(String cell, DrainRun.Result r) {
        ClickLedger.Tally tally = r.tally();
        return String.format(Locale.ROOT, """
                **%s**: the drain took %.2f s; B activated %,d players from a handoff and %,d afresh while the \
                loop ran; A ended %,d activations MOVED. Failed clicks: %s before, %s during, %s after the drain \
                (%,d over the whole loop, warm-up included). At the end %,d acknowledged clicks were checked \
                against the players' counts: %,d lost (%,d players short), %,d counted whose call had failed (%,d \
                players). Machine during the drain: %s of its CPU time went to other work; load average (1 min) \
                %s at its start.""", cell, r.drainNanos() / 1e9, r.handedOver(), r.freshOnB(), r.movedOffA(),
                failures(r.before().failures()), failures(r.during().failures()), failures(r.after().failures()),
                r.failedInAll(), tally.acknowledged(), tally.lost(), tally.playersShort(), tally.extra(),
                tally.playersOver(), Double.isNaN(r.otherWorkShare()) ? "unknown"
                        : String.format(Locale.ROOT, "%.0f%%", r.otherWorkShare() * 100), r.loadAtDrain());
    }

    /** {@code 0}, or the count with its codes, e.g. {@code 12 (UNAVAILABLE 12)}. */
    static String failures(Map<String, Long> byCode) {
        long total = byCode.values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) {
            return "0";
        }
        return String.format(Locale.ROOT, "%,d (%s)", total, byCode.entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "%s %,d", e.getKey(), e.getValue()))
                .collect(Collectors.joining(", ")));
    }

    static final Goals.Why DRAIN_WHY = Goals.why("everything (gateway, both logic nodes, the load, the JIT) shares "
            + "this JVM's CPU, so the drain's handoff work competes with the clicks it is measured against; one "
            + "drain per cell is one sample", "handoff");
    public static final Goals.Why FAILED_WHY = Goals.why("a click that reaches the old owner with its old link after the "
            + "hand-over fails UNAVAILABLE unless the client re-routes it; the note gives each failure's code",
            "handoff");
    static final Goals.Why LOST_WHY = Goals.why("a count below the clicks its calls acknowledged means a player's "
            + "state was handed over without a click it had answered: a correctness fault, not a cost", "handoff");

    /** Issue 16's goals for one cell: drain time, failed clicks from the drain on, lost clicks. */
    static void goals(Report report, int players, String plane, DrainRun.Result r) {
        String prefix = String.format(Locale.ROOT, "Handoff, %s: ", plane);
        double seconds = r.drainNanos() / 1e9;
        goal(report, seconds <= DRAIN_GOAL.toMillis() / 1e3,
                prefix + String.format(Locale.ROOT, "drain time with %,d players", players),
                String.format(Locale.ROOT, "%.2f s", seconds), String.format(Locale.ROOT, "≤ %d s",
                        DRAIN_GOAL.toSeconds()), DRAIN_WHY);
        long failed = r.during().failed() + r.after().failed();
        goal(report, failed == 0, prefix + "clicks failed during and after the drain",
                String.format(Locale.ROOT, "%,d", failed), "0", FAILED_WHY);
        goal(report, r.tally().lost() == 0, prefix + "acknowledged clicks lost",
                String.format(Locale.ROOT, "%,d", r.tally().lost()), "0", LOST_WHY);
    }

    /** One goal line through {@link Goals#check} (it has no unit for seconds or counts). */
    static void goal(Report report, boolean met, String goal, String measured, String target, Goals.Why why) {
        Goals.check(report, met, goal, measured, target, why);
    }
}
