package io.braid.bench.core;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The goals, checked against figures of the same run and written as one line each into
 * the report's "Goals" section (which {@code Bench} puts first). A suite checks its own goals
 * after its comparisons, e.g.
 *
 * <pre>{@code
 * Goals.row(report, "rpc", "1x64 64 B", "braid inline").ifPresent(...);
 * Goals.atLeast(report, "RPC 1x64 64 B throughput, braid inline / gRPC direct", ratio, 3, Goals.Unit.RATIO,
 *         Goals.why("the ratio of two throughputs on the shared server core swings between runs", "rpc"));
 * }</pre>
 *
 * <p>Every goal carries its {@link Why}: what limits the figure, in a sentence or two from
 * braid-bench/README.md, and the README section that tells more. A missed goal's line ends with it,
 * so the reader of BENCHMARKS.md learns why without searching; a met goal's line does not.
 */
public final class Goals {
    /** The report group all goal lines go to. */
    public static final String GROUP = "goals";

    /** How a measured figure and its target are printed. */
    public enum Unit {
        RATIO("%.2fx"), MICROS("%.1f µs"), NANOS("%.1f ns"), BYTES("%.0f B"), COUNT("%,.0f");

        private final String format;

        Unit(String format) {
            this.format = format;
        }

        String format(double value) {
            return Double.isNaN(value) ? "not measured" : String.format(Locale.ROOT, format, value);
        }
    }

    /**
     * Why a goal may be missed: what limits its figure (one or two sentences, taken from the
     * README's "what limits" texts) and the braid-bench/README.md section that tells more, e.g.
     * {@code rpc › The blocking path without a thread start}.
     */
    public record Why(String limit, String readme) {
        public Why {
            if (limit.isBlank() || readme.isBlank()) {
                throw new IllegalArgumentException("a goal's reason needs what limits it and its README section");
            }
        }

        /** The text a missed goal's line ends with. */
        public String text() {
            String sentence = limit.strip();
            if (sentence.endsWith(".")) {
                sentence = sentence.substring(0, sentence.length() - 1);
            }
            return "why: " + sentence + "; see braid-bench/README.md, " + readme.strip() + ".";
        }
    }

    private Goals() {
    }

    /** What limits a goal's figure, and where braid-bench/README.md says more. */
    public static Why why(String limit, String readme) {
        return new Why(limit, readme);
    }

    /** The row of {@code subject} in {@code cell} of {@code group}, if that cell ran. */
    public static Optional<Row> row(Report report, String group, String cell, String subject) {
        return report.rows().stream()
                .filter(r -> r.group().equals(group) && r.cell().equals(cell) && r.subject().equals(subject))
                .findFirst();
    }

    /**
     * A goal met when {@code measured >= target}; a NaN figure is reported as not checked. A
     * missed goal's line ends with {@code why}.
     */
    public static boolean atLeast(Report report, String goal, double measured, double target, Unit unit, Why why) {
        if (Double.isNaN(measured)) {
            unchecked(report, goal, "not measured");
            return false;
        }
        return check(report, measured >= target, goal, unit.format(measured), "≥ " + unit.format(target), why);
    }

    /**
     * A goal met when {@code measured <= target}; a NaN figure is reported as not checked. A
     * missed goal's line ends with {@code why}.
     */
    public static boolean atMost(Report report, String goal, double measured, double target, Unit unit, Why why) {
        if (Double.isNaN(measured)) {
            unchecked(report, goal, "not measured");
            return false;
        }
        return check(report, measured <= target, goal, unit.format(measured), "≤ " + unit.format(target), why);
    }

    /**
     * One goal line for a figure the units above do not print (seconds, a count with a comment):
     * {@code met} decided by the caller, {@code measured} and {@code target} as they are to read.
     * Returns {@code met}.
     */
    public static boolean check(Report report, boolean met, String goal, String measured, String target, Why why) {
        String line = "- **" + (met ? "met" : "missed") + "**: " + goal + ": " + measured + " (goal " + target + ")";
        if (!met) {
            line += " — " + Objects.requireNonNull(why, "a goal needs its reason").text();
        }
        report.note(GROUP, line);
        return met;
    }

    /** A goal that could not be checked in this run (its cell did not run or failed). */
    public static void unchecked(Report report, String goal, String why) {
        report.note(GROUP, "- **not checked**: " + goal + " (" + why + ")");
    }
}
