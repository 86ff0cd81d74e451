package io.braid.bench.core;

import java.time.Duration;

/**
 * How long a cell warms up and how long it is measured, and how many interleaved repeats a
 * comparison makes. {@link #SMOKE} keeps the harness honest in CI in seconds; its numbers mean
 * nothing.
 */
public record Window(Duration warmup, Duration measure, int repeats) {
    public static final Window FULL = new Window(Duration.ofSeconds(3), Duration.ofSeconds(7), 3);
    public static final Window QUICK = new Window(Duration.ofSeconds(2), Duration.ofSeconds(3), 2);
    public static final Window SMOKE = new Window(Duration.ofMillis(200), Duration.ofMillis(400), 1);

    public Window {
        if (warmup.isNegative() || measure.isZero() || measure.isNegative() || repeats < 1) {
            throw new IllegalArgumentException("bad window " + warmup + " + " + measure + " x" + repeats);
        }
    }

    /**
     * This window with its warm-up and measured window cut to at most the given lengths (a suite
     * with many subjects keeps to its share of the run this way); repeats stay.
     */
    public Window capped(Duration maxWarmup, Duration maxMeasure) {
        return new Window(warmup.compareTo(maxWarmup) <= 0 ? warmup : maxWarmup,
                measure.compareTo(maxMeasure) <= 0 ? measure : maxMeasure, repeats);
    }

    /**
     * How many of something (players, entities, sessions) a section uses in this window: {@code full}
     * in a measuring window, {@code smoke} in {@link #SMOKE}, whose numbers mean nothing and whose
     * time the CI pays.
     */
    public int sized(int full, int smoke) {
        return equals(SMOKE) ? smoke : full;
    }

    /** Parses {@code full}, {@code quick} or {@code smoke}. */
    public static Window named(String name) {
        return switch (name) {
            case "full" -> FULL;
            case "quick" -> QUICK;
            case "smoke" -> SMOKE;
            default -> throw new IllegalArgumentException("window must be full, quick or smoke, not " + name);
        };
    }
}
