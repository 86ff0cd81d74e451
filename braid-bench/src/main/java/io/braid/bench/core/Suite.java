package io.braid.bench.core;

/**
 * A section of the side-by-side suite (limits, rpc, sticky routing, pub-sub, micro): it sets up
 * what it compares, runs its comparisons and adds rows and notes to the report.
 */
public interface Suite {
    /** Short name used on the command line ({@code --only rpc,pubsub}) and in the CSV. */
    String name();

    void run(Report report, Window window) throws Exception;

    /** True for a section that runs only when named in {@code --only} (not in a plain run, nor in smoke). */
    default boolean optIn() {
        return false;
    }

    /**
     * True for a section the CI's smoke run ({@code --window smoke} without {@code --only}) runs:
     * by default the sections a plain run runs. An opt-in section too long for a plain run may still
     * keep its harness honest here at a small size.
     */
    default boolean inSmoke() {
        return !optIn();
    }
}
