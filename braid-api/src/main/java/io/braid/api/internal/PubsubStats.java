package io.braid.api.internal;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Read-only figures of the topics a pub-sub store holds, for operators (the monitor's topic
 * page). The figures are the cluster's, not one member's: every member reading the same store
 * sees the same topics.
 */
public interface PubsubStats {
    /** Every topic of the store with its channels, sorted by topic and channel name. */
    CompletableFuture<List<TopicStats>> topicStats();
}
