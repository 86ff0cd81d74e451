package io.braid.bench.core;

/**
 * A section of the side-by-side suite (limits, rpc, sticky, pubsub, micro, lanes, handoff, pekko,
 * gateway, scale): it sets up what it compares, runs its comparisons and adds rows, notes and goal
 * lines to the report.
 */
public interface Suite {
    /** Short name used on the command line ({@code --only rpc,pubsub}) and in the CSV. */
    String name();

    void run(Report report, Window window) throws Exception;

    /**
     * True for a section that runs only when named in {@code --only}, not in a plain {@code ./bench}:
     * one too long for the plain run's budget (every other section together under 15 minutes at
     * {@code full}), which the README then gives its own command and time. Only {@code scale} is.
     */
    default boolean optIn() {
        return false;
    }

    /**
     * True for a section the CI's smoke run ({@code --window smoke} without {@code --only}) runs:
     * by default the sections a plain run runs. An opt-in section keeps its harness honest here at a
     * small size by returning true, as {@code scale} does: the smoke runs every section.
     */
    default boolean inSmoke() {
        return !optIn();
    }
}
