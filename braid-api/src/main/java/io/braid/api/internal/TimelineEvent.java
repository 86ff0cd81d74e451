package io.braid.api.internal;

import java.util.Map;
import java.util.Objects;

/**
 * One event of the cluster's timeline, as the node it happened on recorded it (membership changes:
 * as the leader of the node's service saw them). {@code node} and {@code seq} name it in the cluster:
 * each node numbers its own events from 1, so copies heard on the topic and read from the node are
 * told apart from new ones.
 *
 * @param atMillis wall-clock milliseconds when it was recorded
 * @param node     the node that recorded it
 * @param seq      its number among that node's events, from 1
 * @param kind     what happened
 * @param text     one short line for people
 * @param fields   the figures behind the line (epochs, counts, node ids), as strings
 */
public record TimelineEvent(long atMillis, String node, long seq, Kind kind, String text, Map<String, String> fields) {
    /** What happened. */
    public enum Kind {
        /** A node joined its service (told by the node itself once it is registered). */
        JOINED,
        /** A node left its service (its record was removed: closed, or gone). */
        LEFT,
        /** A node's state changed (ACTIVE to DRAINING). */
        STATE,
        /** A node became its service's leader, under an epoch. */
        LEADER,
        /** A node's drain: {@code phase} started or done. */
        DRAIN,
        /**
         * A round of hand-overs ({@code reason} drain or rebalance): {@code phase} started, progress
         * or done, {@code handedOver} of {@code of}.
         */
        HANDOFFS,
        /** A rebalance round began, moving {@code moves} players. */
        REBALANCE,
        /**
         * The node lost Redis: its registration has not been confirmed for {@code sinceConfirmedMs},
         * its fence window (so its self-fence closes too).
         */
        REDIS_DOWN,
        /** Redis answers the node again after {@code downMs}. */
        REDIS_BACK,
        /** The node's self-fence closed: it refuses token work. */
        FENCE_CLOSED,
        /** The node's self-fence opened again. */
        FENCE_OPENED
    }

    public TimelineEvent {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(text, "text");
        fields = Map.copyOf(fields);
    }
}
