package io.braid.bench;

import io.braid.bench.core.Goals;
import io.braid.bench.core.OtherWork;
import io.braid.bench.core.Pinning;
import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Suite;
import io.braid.bench.core.Window;
import io.braid.bench.limits.LimitsSuite;
import io.braid.bench.pubsub.PubsubSuite;
import io.braid.bench.rpc.RpcSuite;
import io.braid.bench.rpc.ServerProcess;
import io.braid.bench.sticky.StickySuite;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The side-by-side suite's entry point (run it through {@code ./bench}):
 * {@code Bench [--window full|quick|smoke] [--only limits,rpc,...] [--out DIR]}. Runs the chosen
 * suites in order and writes {@code BENCHMARKS.md} and {@code benchmarks.csv} into DIR (default:
 * the working directory). Exits 1 when a suite threw or a cell completed no operation, after
 * writing what it has.
 */
public final class Bench {
    private static final String HEADER = "benchmarks-header.md";

    private Bench() {
    }

    /** Every suite, in report order; each helper adds its suite's line here. */
    static List<Suite> suites() {
        return List.of(
                new LimitsSuite(),
                new RpcSuite(),
                new StickySuite(),
                new PubsubSuite(),
                new io.braid.bench.micro.MicroSuite(),
                new io.braid.bench.lanes.LanesSuite(),
                new io.braid.bench.handoff.HandoffSuite(),
                new io.braid.bench.pekko.PekkoSuite(),
                new io.braid.bench.gateway.GatewaySuite(),
                new io.braid.bench.scale.ScaleSuite());
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args, suites());
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: bench [--window full|quick|smoke] [--only "
                    + suites().stream().map(Suite::name).collect(Collectors.joining(",")) + "] [--out DIR]");
            System.exit(2);
            return;
        }
        System.exit(run(options));
    }

    static int run(Options options) throws IOException {
        Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        String loadAtStart = loadAverage();
        OtherWork cpuAtStart = OtherWork.read();
        System.out.println(machine(options, started));
        Report report = new Report();
        report.section(Goals.GROUP, "Goals");
        report.note(Goals.GROUP, "Each goal of the issues (9, 16, 17, 18) for the sections that ran, with the "
                + "figure this run measured (ratios within one cell of this run). A missed goal ends with what "
                + "limits it and the section of braid-bench/README.md that tells more.");
        Map<String, Duration> took = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        for (Suite suite : options.suites()) {
            System.out.println("== " + suite.name());
            long start = System.nanoTime();
            try {
                suite.run(report, options.window());
            } catch (Exception | Error e) {
                failures.add(suite.name() + ": " + e);
                report.note(suite.name(), "**This section failed:** `" + e + "`");
                e.printStackTrace();
            }
            took.put(suite.name(), Duration.ofNanos(System.nanoTime() - start).truncatedTo(ChronoUnit.SECONDS));
            System.out.println("== " + suite.name() + " took " + took.get(suite.name()).toSeconds() + " s");
        }
        // A row where nothing ended is a broken harness. One where every call failed is a result
        // (Pekko's asks dropped in its hand-off fail only at their timeout, past a short window).
        for (Row row : report.rows()) {
            if (!(row.sample().opsPerSecond() > 0) && row.sample().errors() == 0) {
                failures.add(row.group() + " " + row.cell() + " " + row.subject() + ": no operation completed");
            }
        }
        Files.createDirectories(options.out());
        Path markdown = options.out().resolve("BENCHMARKS.md");
        Path csv = options.out().resolve("benchmarks.csv");
        String loadAtEnd = loadAverage();
        OtherWork cpuAtEnd = OtherWork.read();
        double otherShare = cpuAtStart == null || cpuAtEnd == null ? Double.NaN : cpuAtEnd.shareSince(cpuAtStart);
        report.write(markdown, header() + "\n## This run\n\n" + busyWarning(otherShare)
                + machine(options, started) + timings(took) + String.format(Locale.ROOT,
                "- CPU time the machine spent on work other than this run: %s%n", Double.isNaN(otherShare)
                        ? "unknown" : String.format(Locale.ROOT, "%.1f%%", otherShare * 100))
                + "- Load average (1 min) of the machine at the start: " + loadAtStart + ", at the end: " + loadAtEnd
                + " (the run itself keeps both CPUs busy)\n", csv);
        System.out.println("wrote " + markdown + " and " + csv);
        if (!failures.isEmpty()) {
            System.err.println("FAILED:\n  " + String.join("\n  ", failures));
            return 1;
        }
        return 0;
    }

    private static String header() throws IOException {
        try (InputStream in = Bench.class.getResourceAsStream(HEADER)) {
            if (in == null) {
                throw new IllegalStateException(HEADER + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The facts a reader needs to weigh the numbers: machine, JVM, flags, pinning, window. */
    static String machine(Options options, Instant started) {
        Window w = options.window();
        String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
                .collect(Collectors.joining(", "));
        List<String> flags = ServerProcess.jvmFlags();
        return String.format(Locale.ROOT, """
                - Date: %s
                - Machine: %d online CPUs (%s), %s %s
                - Pinning: %s
                - JVM: %s %s (%s), GC %s
                - JVM flags, load and server JVMs alike: `%s`
                - Window: %s, warm-up %.1f s, measured %.1f s, %d interleaved repeats per cell (sections may \
                cap the measured window to keep the run within budget; each says what it used)
                - Sections: %s
                """, started, Pinning.onlineCpus(), cpuModel(), System.getProperty("os.name"),
                System.getProperty("os.version"), Pinning.describe(), System.getProperty("java.vm.name"),
                Runtime.version(), System.getProperty("java.vendor"), gcs,
                flags.isEmpty() ? "(none)" : String.join(" ", flags), options.windowName(),
                w.warmup().toMillis() / 1e3, w.measure().toMillis() / 1e3, w.repeats(),
                options.suites().stream().map(Suite::name).collect(Collectors.joining(", ")));
    }

    /** The wall time of each section, one line each, and their sum: where a run's minutes went. */
    static String timings(Map<String, Duration> took) {
        long total = took.values().stream().mapToLong(Duration::toSeconds).sum();
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "- Time: %d s (%d min %02d s) for the sections, each:%n", total, total / 60, total % 60));
        took.forEach((name, time) -> out.append(String.format(Locale.ROOT, "  - %s: %d s%n", name, time.toSeconds())));
        return out.toString();
    }

    /** Other work above this share of all CPU time makes a run's figures unrepresentative. */
    static final double BUSY_SHARE = 0.10;

    /**
     * A warning at the top of the run's facts when other work took more than {@link #BUSY_SHARE}
     * of the machine's CPU time during the run: starved JIT compilers and stolen time make such
     * figures unrepresentative, heavy frameworks most of all.
     */
    static String busyWarning(double otherShare) {
        if (!(otherShare > BUSY_SHARE)) {
            return "";
        }
        return String.format(Locale.ROOT, "**The machine was busy during this run (%.0f%% of its CPU time went to "
                + "other work): JIT compilers included, everything competed for the CPUs, so these figures are not "
                + "representative. Run again on a quiet machine.**%n%n", otherShare * 100);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    /** The command line. */
    record Options(String windowName, Window window, List<Suite> suites, Path out) {
        static Options parse(String[] args, List<Suite> all) {
            String windowName = "full";
            Set<String> only = null;
            Path out = Path.of(".");
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(arg.startsWith("--") ? arg + " needs a value"
                            : "unexpected argument " + arg);
                }
                String value = args[++i];
                switch (arg) {
                    case "--window" -> windowName = value;
                    case "--only" -> only = new LinkedHashSet<>(List.of(value.split(",")));
                    case "--out" -> out = Path.of(value);
                    default -> throw new IllegalArgumentException("unknown option " + arg);
                }
            }
            Window window = Window.named(windowName);
            boolean smoke = window.equals(Window.SMOKE);
            List<Suite> chosen = all.stream().filter(s -> smoke ? s.inSmoke() : !s.optIn()).toList();
            if (only != null) {
                Set<String> names = all.stream().map(Suite::name).collect(Collectors.toSet());
                for (String name : only) {
                    if (!names.contains(name)) {
                        throw new IllegalArgumentException("no suite named '" + name + "'");
                    }
                }
                Set<String> wanted = only;
                chosen = all.stream().filter(s -> wanted.contains(s.name())).toList();
            }
            return new Options(windowName, window, chosen, out);
        }
    }
}
