package io.braid.bench.rpc;

import io.braid.bench.core.Comparison;
import io.braid.bench.core.Load;
import io.braid.bench.core.Row;
import io.braid.bench.core.Runner;
import io.braid.bench.core.Window;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs echo cells: every subject's client is opened for the cell (its server JVM keeps running
 * from cell to cell), then the subjects are measured closed-loop, interleaved, through
 * {@link Comparison}. The first subject listed is the baseline.
 *
 * <p>Each client makes one call before anything is timed (connecting stays out of the windows).
 * Warm-up: the window's full warm-up the first time a subject runs in this suite (its server
 * JVM and our client code get compiled), at most 1 s on the first repeat of each later cell (new
 * connections), at most 0.5 s before each further repeat (the pipelines fill again). The
 * measured window is the suite's window capped at {@code maxMeasure}, so the whole run keeps to
 * its time budget.
 */
public final class EchoComparisons {
    private static final Duration CELL_WARMUP = Duration.ofSeconds(1);
    private static final Duration REPEAT_WARMUP = Duration.ofMillis(500);
    private static final Duration PRIME_TIMEOUT = Duration.ofSeconds(30);

    private final Window window;
    private final Set<String> warmSubjects = new HashSet<>();

    public EchoComparisons(Window window, Duration maxMeasure) {
        this.window = new Window(window.warmup(), min(window.measure(), maxMeasure), window.repeats());
    }

    /** The window each cell is measured with. */
    public Window window() {
        return window;
    }

    public List<Row> run(String group, EchoCell cell, List<EchoSubject> subjects) throws Exception {
        List<Load> loads = new ArrayList<>();
        try {
            Comparison comparison = null;
            for (EchoSubject subject : subjects) {
                Load load = subject.open(cell);
                loads.add(load);
                prime(subject.name(), cell, load);
                Runner.Sides sides = Runner.Sides.against(subject.server().meter());
                boolean suiteWarm = !warmSubjects.add(subject.name());
                int[] runs = {0};
                io.braid.bench.core.Trial trial = w -> {
                    Duration warmup = runs[0]++ > 0 ? min(w.warmup(), REPEAT_WARMUP)
                            : suiteWarm ? min(w.warmup(), CELL_WARMUP) : w.warmup();
                    return Runner.closedLoop(load, cell.inFlight(), warmup, w.measure(), sides);
                };
                comparison = comparison == null ? new Comparison(group, cell.name(), subject.name(), trial)
                        : comparison.subject(subject.name(), trial);
            }
            if (comparison == null) {
                throw new IllegalArgumentException("no subjects for " + cell.name());
            }
            return comparison.run(window);
        } finally {
            for (Load load : loads) {
                load.close();
            }
        }
    }

    /**
     * One call before any timing, so that connecting and first-use class loading stay out of the
     * windows, and a subject that cannot answer at all fails here with its error instead of
     * showing up as an empty row.
     */
    private static void prime(String subject, EchoCell cell, Load load) throws InterruptedException {
        CompletableFuture<Void> first = new CompletableFuture<>();
        load.start(error -> {
            if (error == null) {
                first.complete(null);
            } else {
                first.completeExceptionally(error);
            }
        });
        try {
            first.get(PRIME_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(subject + " " + cell.name() + ": the first call failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException(subject + " " + cell.name() + ": the first call got no answer in "
                    + PRIME_TIMEOUT.toSeconds() + " s");
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
