package io.braid.api.internal;

import java.util.List;

/**
 * What a node recorded for the monitor besides its meters: its part of the cluster's timeline and
 * what it knows of one player. The runtime's {@link NodeView} implements it too; the monitor reads
 * it when {@code view instanceof NodeInsight}. Both are bounded in memory (see the runtime's
 * {@code ClusterTimeline} and {@code PlayerRecords}). Thread-safe; quick, never blocks on I/O.
 */
public interface NodeInsight {
    /**
     * The timeline events this node holds recorded at or after {@code sinceMillis} (wall clock): its
     * own, and those it heard from other nodes on the timeline topic when it follows it; oldest first.
     */
    List<TimelineEvent> timeline(long sinceMillis);

    /** What this node knows of {@code token} now. */
    PlayerReport player(String token);
}
