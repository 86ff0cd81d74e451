package io.braid.bench.micro;

import io.braid.bench.core.Goals;
import io.braid.bench.core.Report;
import io.braid.bench.core.Suite;
import io.braid.bench.core.Window;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The {@code micro} section: the JMH benchmarks of this package (SWRR pick, near-cache hit, frame
 * encode and decode) run through JMH's {@link Runner} with the GC profiler, reported as one table
 * of ns/op and B/op plus a line per goal.
 *
 * <p>Time: at {@link Window#FULL} one fork per benchmark, 2 warm-up iterations of 0.5 s and 3 measured
 * of 0.7 s (about a minute for the 15 benchmarks, forks included); {@link Window#QUICK} fewer;
 * {@link Window#SMOKE} runs in this JVM (no fork) for a tenth of a second each, numbers meaningless.
 *
 * <p>Alone: {@code java -cp ... io.braid.bench.micro.MicroSuite [full|quick|smoke]} prints the section.
 */
public final class MicroSuite implements Suite {
    static final String GROUP = "micro";
    /** Goal of issue 9: one SWRR pick over 30 nodes. */
    static final double PICK_30_GOAL_NANOS = 100;
    private static final String ALLOCATION = "gc.alloc.rate.norm";

    @Override
    public String name() {
        return GROUP;
    }

    @Override
    public void run(Report report, Window window) throws Exception {
        List<Measured> measured = measure(window);
        report.section(GROUP, "Micro benchmarks (JMH, GC profiler)");
        report.note(GROUP, table(measured, window));
        goals(report, measured);
    }

    /** One benchmark's result: its name and parameters, time and allocation per operation. */
    record Measured(String benchmark, String params, double nanosPerOp, double nanosError, double bytesPerOp) {
        boolean is(String name, String param) {
            return benchmark.equals(name) && params.equals(param);
        }
    }

    static List<Measured> measure(Window window) throws Exception {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(MicroSuite.class.getPackageName().replace(".", "\\.") + "\\..*Benchmark\\..*")
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT)
                .timeUnit(TimeUnit.NANOSECONDS);
        if (window.measure().toSeconds() >= 5) { // FULL
            options.forks(1).warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(700));
        } else if (window.measure().toSeconds() >= 1) { // QUICK
            options.forks(1).warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(2).measurementTime(TimeValue.milliseconds(700));
        } else { // SMOKE: proves the benchmarks run, measures nothing worth reading
            options.forks(0).warmupIterations(1).warmupTime(TimeValue.milliseconds(100))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(100));
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        List<Measured> measured = new ArrayList<>();
        for (RunResult result : results) {
            var params = result.getParams();
            String name = params.getBenchmark();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            Map<String, String> sorted = new TreeMap<>();
            for (String key : params.getParamsKeys()) {
                sorted.put(key, params.getParam(key));
            }
            String paramText = String.join(" ", sorted.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .toList());
            Result<?> primary = result.getPrimaryResult();
            Result<?> allocation = result.getSecondaryResults().get(ALLOCATION);
            Measured m = new Measured(name, paramText, primary.getScore(), primary.getScoreError(),
                    allocation == null ? Double.NaN : allocation.getScore());
            System.out.printf(Locale.ROOT, "  %-8s %-36s %-18s %10.1f ns/op %10.1f B/op%n", GROUP, m.benchmark(),
                    m.params(), m.nanosPerOp(), m.bytesPerOp());
            measured.add(m);
        }
        return measured;
    }

    static String table(List<Measured> measured, Window window) {
        StringBuilder out = new StringBuilder();
        out.append("| benchmark | parameters | ns/op | ± (99.9%) | B/op |\n|---|---|---:|---:|---:|\n");
        for (Measured m : measured) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", m.benchmark(),
                    m.params().isEmpty() ? "–" : m.params(), number(m.nanosPerOp(), 1), number(m.nanosError(), 1),
                    number(m.bytesPerOp(), 0)));
        }
        out.append('\n').append(window.measure().toSeconds() >= 5
                ? "One fork each, 2 × 0.5 s warm-up, 3 × 0.7 s measured; "
                : "Short run (not the full window); ")
                .append("B/op is JMH's gc.alloc.rate.norm (heap bytes allocated per operation, every thread). ")
                .append("PickerBenchmark.pickEligible picks through a predicate per node as the client does (a cheap one: "
                        + "the client's also looks up ejection marks and GoAway state); ")
                .append("NearCacheBenchmark is RedisLinkCache.targetAsync for a token in the near cache; ")
                .append("FrameBenchmark.encode writes a call's request the way the client does (field by field, "
                        + "into a pooled buffer), encodeEnvelope builds and writes a generated envelope (every other "
                        + "message), decode reads a request frame as the server does (without protobuf's builders), "
                        + "decodeEnvelope parses it with protobuf's generated parser.\n");
        return out.toString();
    }

    /** A smooth weighted round robin pick walks every candidate (nginx's algorithm). */
    static final Goals.Why PICK_WHY = Goals.why("smooth weighted round robin visits every node per pick (add its "
            + "weight, take the largest, subtract the total) and the client's eligibility predicate runs per node "
            + "too, so a pick grows with the nodes", "micro");
    static final Goals.Why NEAR_CACHE_WHY = Goals.why("a hit allocates nothing on the calling thread "
            + "(NearCacheAllocationTest); JMH counts every thread's allocation, the link cache's heartbeats too, so "
            + "a whole byte per hit means something on the hit path allocates again",
            "rpc › What limits allocation per call");

    /** The goals that this section measures, as lines of the report's Goals section. */
    static void goals(Report report, List<Measured> measured) {
        String pick = "SWRR pick over 30 nodes, through an eligibility predicate as the client picks";
        measured.stream().filter(m -> m.is("PickerBenchmark.pickEligible", "nodes=30")).findFirst().ifPresentOrElse(
                m -> Goals.atMost(report, pick, m.nanosPerOp(), PICK_30_GOAL_NANOS, Goals.Unit.NANOS, PICK_WHY),
                () -> Goals.unchecked(report, pick, "the benchmark did not run"));
        String warm = "Warm sticky call: the near-cache lookup allocates nothing";
        measured.stream().filter(m -> m.is("NearCacheBenchmark.nearCacheHit", "")).findFirst().ifPresentOrElse(
                // In whole bytes, as the table shows it: JMH counts every thread's allocation (here the link
                // cache's heartbeats too), so a hit that allocates nothing still shows a fraction of a byte.
                m -> Goals.atMost(report, warm, Math.round(m.bytesPerOp()), 0, Goals.Unit.BYTES, NEAR_CACHE_WHY),
                () -> Goals.unchecked(report, warm, "the benchmark did not run"));
    }

    private static String number(double value, int decimals) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    public static void main(String[] args) throws Exception {
        Window window = Window.named(args.length > 0 ? args[0] : "quick");
        Report report = new Report();
        new MicroSuite().run(report, window);
        System.out.println(report.markdown("# braid micro benchmarks\n"));
    }
}
