package io.braid.bench.core;

import java.util.Locale;
import java.util.Optional;

/**
 * The goals, checked against figures of the same run and written as one line each into
 * the report's "Goals" section (which {@code Bench} puts first). A suite checks its own goals
 * after its comparisons, e.g.
 *
 * <pre>{@code
 * Goals.row(report, "rpc", "1x64 64 B", "braid inline").ifPresent(...);
 * Goals.atLeast(report, "RPC 1x64 64 B throughput, braid inline / gRPC direct", ratio, 3, Goals.Unit.RATIO);
 * }</pre>
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

    private Goals() {
    }

    /** The row of {@code subject} in {@code cell} of {@code group}, if that cell ran. */
    public static Optional<Row> row(Report report, String group, String cell, String subject) {
        return report.rows().stream()
                .filter(r -> r.group().equals(group) && r.cell().equals(cell) && r.subject().equals(subject))
                .findFirst();
    }

    /** A goal met when {@code measured >= target}; a NaN figure is reported as not checked. */
    public static boolean atLeast(Report report, String goal, double measured, double target, Unit unit) {
        if (Double.isNaN(measured)) {
            unchecked(report, goal, "not measured");
            return false;
        }
        boolean met = measured >= target;
        line(report, met, goal, unit.format(measured), "≥ " + unit.format(target));
        return met;
    }

    /** A goal met when {@code measured <= target}; a NaN figure is reported as not checked. */
    public static boolean atMost(Report report, String goal, double measured, double target, Unit unit) {
        if (Double.isNaN(measured)) {
            unchecked(report, goal, "not measured");
            return false;
        }
        boolean met = measured <= target;
        line(report, met, goal, unit.format(measured), "≤ " + unit.format(target));
        return met;
    }

    /** A goal that could not be checked in this run (its cell did not run or failed). */
    public static void unchecked(Report report, String goal, String why) {
        report.note(GROUP, "- **not checked**: " + goal + " (" + why + ")");
    }

    private static void line(Report report, boolean met, String goal, String measured, String target) {
        report.note(GROUP, "- **" + (met ? "met" : "missed") + "**: " + goal + ": " + measured + " (goal " + target
                + ")");
    }
}
