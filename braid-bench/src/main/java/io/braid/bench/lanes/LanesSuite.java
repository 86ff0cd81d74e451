package io.braid.bench.lanes;

import io.braid.bench.core.Comparison;
import io.braid.bench.core.Goals;
import io.braid.bench.core.Load;
import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Runner;
import io.braid.bench.core.Suite;
import io.braid.bench.core.Trial;
import io.braid.bench.core.Window;
import io.braid.bench.rpc.ServerKind;
import io.braid.bench.rpc.ServerMain;
import io.braid.bench.rpc.ServerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A call in its token's lane ({@code handleAsyncInLane}, {@code handleInLane}) against the same
 * echo without a lane ({@code handleAsync}, {@code handle}), closed loop 1x64 with 64 B, the
 * tokens round robin over 1,024 players and all on one hot player; and the heap of a lane in use.
 * One server JVM on the server core serves all four methods.
 */
public final class LanesSuite implements Suite {
    public static final String GROUP = "lanes";
    static final String INLINE = "handleAsync";
    static final String LANE_INLINE = "handleAsyncInLane";
    static final String BLOCKING = "handle (virtual thread)";
    static final String LANE_BLOCKING = "handleInLane (virtual thread)";
    static final String SPREAD = "1x64 64 B, 1,024 tokens";
    static final String HOT = "1x64 64 B, one token";
    private static final int IN_FLIGHT = 64;
    private static final int PAYLOAD = 64;
    private static final int HEAP_LANES = 100_000;
    private static final Duration MAX_MEASURE = Duration.ofSeconds(2);
    private static final Duration REPEAT_WARMUP = Duration.ofMillis(500);
    /** What a lane adds to an inline call, as the section's note describes it (no profile of it yet). */
    static final Goals.Why LANE_WHY = Goals.why("a lane call runs inline only when its token's lane is free, else "
            + "on the event loop when its turn comes, and a lane is made for a call and removed when idle: "
            + "bookkeeping per call that handleAsync does not do (not profiled yet)", "lanes");
    static final Goals.Why HEAP_WHY = Goals.why("a lane in use holds its token's place in the lane map and the "
            + "running call's turn; the figure is a difference of used heap after full GCs over 100,000 lanes",
            "lanes");

    @Override
    public String name() {
        return GROUP;
    }

    @Override
    public void run(Report report, Window window) throws Exception {
        report.section(GROUP, "Lanes: a call in its token's lane vs the same call without one (echo, closed loop)");
        Window capped = window.capped(window.warmup(), MAX_MEASURE);
        try (ServerProcess server = ServerProcess.start(ServerKind.BRAID_LANES)) {
            Set<String> warm = new HashSet<>();
            for (String cell : List.of(SPREAD, HOT)) {
                int tokens = cell.equals(SPREAD) ? 1024 : 1;
                List<Load> loads = new ArrayList<>();
                try {
                    Comparison comparison = null;
                    for (String[] subject : List.of(new String[] {INLINE, ServerMain.ECHO_INLINE},
                            new String[] {LANE_INLINE, ServerMain.ECHO_LANE},
                            new String[] {BLOCKING, ServerMain.ECHO_BLOCKING},
                            new String[] {LANE_BLOCKING, ServerMain.ECHO_LANE_BLOCKING})) {
                        Load load = new LaneLoad(server.port(), subject[1], tokens, new byte[PAYLOAD]);
                        loads.add(load);
                        prime(load);
                        boolean firstTime = warm.add(subject[0]);
                        int[] runs = {0};
                        Trial trial = w -> Runner.closedLoop(load, IN_FLIGHT,
                                firstTime && runs[0]++ == 0 ? w.warmup() : min(w.warmup(), REPEAT_WARMUP),
                                w.measure(), Runner.Sides.against(server.meter()));
                        comparison = comparison == null ? new Comparison(GROUP, cell, subject[0], trial)
                                : comparison.subject(subject[0], trial);
                    }
                    report.add(comparison.run(capped));
                } finally {
                    for (Load load : loads) {
                        load.close();
                    }
                }
            }
        }
        double[] heap = LaneHeap.bytesPerLane(HEAP_LANES);
        report.note(GROUP, String.format(Locale.ROOT, """
                Every call echoes 64 B with a token; one client (one connection, one I/O thread) keeps 64 calls \
                in flight, the tokens taken round robin from 1,024 players or all the same player. The server \
                (its own JVM, one event-loop thread) serves the same echo four ways: `handleAsync` (inline, the \
                baseline), `handleAsyncInLane` (inline when the token's lane is free, else on the event loop when \
                its turn comes), `handle` (a virtual thread, reused) and `handleInLane` (a virtual thread, reused, per \
                call, one at a time per token). Each figure is the median of %d interleaved %.1f s windows. \
                Heap of a lane in use, measured in the bench JVM over %,d lanes (used heap after a full GC, before \
                and after): %.0f B with one call running, %.0f B with one more waiting behind it; an idle lane is \
                removed and costs nothing.""", capped.repeats(), capped.measure().toMillis() / 1e3, HEAP_LANES,
                heap[0], heap[1]));
        Optional<Row> lane = Goals.row(report, GROUP, SPREAD, LANE_INLINE);
        Optional<Row> inline = Goals.row(report, GROUP, SPREAD, INLINE);
        String goal = "Lanes " + SPREAD + ": " + LANE_INLINE + " / " + INLINE + " throughput";
        if (lane.isEmpty() || inline.isEmpty()) {
            Goals.unchecked(report, goal, "the cell did not run");
        } else {
            Goals.atLeast(report, goal, lane.get().sample().opsPerSecond() / inline.get().sample().opsPerSecond(), 0.9,
                    Goals.Unit.RATIO, LANE_WHY);
        }
        Goals.atMost(report, "Lanes: heap of a lane with one call running", heap[0], 300, Goals.Unit.BYTES,
                HEAP_WHY);
    }

    private static void prime(Load load) throws Exception {
        CompletableFuture<Void> first = new CompletableFuture<>();
        load.start(error -> {
            if (error == null) {
                first.complete(null);
            } else {
                first.completeExceptionally(error);
            }
        });
        first.get(30, TimeUnit.SECONDS);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
