package io.braid.api.internal;

/**
 * Hears how a link cache answers, for metrics (braid-monitor counts these). Methods have empty
 * defaults, are called on the thread that got the answer (a caller, or a Redis I/O thread), and
 * must be quick, must not block and must not throw.
 */
public interface LinkCacheListener {
    /** A listener that hears nothing: the default. */
    LinkCacheListener NONE = new LinkCacheListener() {
    };

    /** How a lookup of a token's owner was answered. */
    enum Outcome {
        /** From this process's memory, without a round trip (the near cache, or the in-memory store). */
        NEAR_HIT,
        /** From Redis: the near cache did not have it, Redis did. */
        REDIS_HIT,
        /** The token has no owner in the service (a new link follows). */
        MISS
    }

    /** Why a near cache stopped vouching for its entries (see {@link #nearCacheDistrusted}). */
    enum DistrustReason {
        /** Its invalidation (pub/sub) connection dropped. */
        DISCONNECTED,
        /** Redis confirmed its invalidation subscription anew: invalidations may have been lost before. */
        RESUBSCRIBED,
        /** No heartbeat came back on its invalidation connection within the staleness bound (a silent link). */
        SILENT,
        /** Redis was seen to have lost data (restarted empty, flushed): links it lost publish no invalidation. */
        DATA_LOSS
    }

    /** A lookup of a token's owner in {@code service} was answered. */
    default void lookup(String service, Outcome outcome) {
    }

    /** A token of {@code service} was deliberately moved to a node (relink). */
    default void relinked(String service) {
    }

    /**
     * The near cache stopped vouching for its entries and emptied itself: the start of a period in
     * which lookups read Redis (it ends with the next heartbeat heard on a live subscription). Told
     * once per period, with what began it.
     */
    default void nearCacheDistrusted(DistrustReason reason) {
    }
}
