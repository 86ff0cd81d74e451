package io.braid.monitor.internal;

/**
 * The names of braid's spans and of their attributes. A call makes a CLIENT span
 * {@code <target>/<method>} on the caller and a SERVER span {@code <service>/<method>} on the node
 * that serves it; a publish makes a PRODUCER span {@code <topic> publish}, each delivery a CONSUMER
 * span {@code <topic>/<channel> process}. The W3C trace context travels in the call's metadata
 * and in the message's headers ({@value #TRACEPARENT}, {@value #TRACESTATE}). A call that ran in
 * its token's lane has two INTERNAL children: {@code <service> lane wait} and
 * {@code <service> lane run}. Spans of a player's work carry {@value #BRAID_PLAYER}.
 */
public final class BraidSpans {
    public static final String INSTRUMENTATION_SCOPE = "io.braid";

    public static final String TRACEPARENT = "traceparent";
    public static final String TRACESTATE = "tracestate";

    public static final String RPC_SYSTEM = "rpc.system";
    public static final String RPC_SERVICE = "rpc.service";
    public static final String RPC_METHOD = "rpc.method";
    public static final String BRAID_CODE = "braid.code";
    public static final String BRAID_NODE = "braid.node";
    public static final String MESSAGING_SYSTEM = "messaging.system";
    public static final String MESSAGING_DESTINATION = "messaging.destination.name";
    public static final String MESSAGING_CONSUMER_GROUP = "messaging.consumer.group.name";
    public static final String MESSAGING_MESSAGE_ID = "messaging.message.id";
    public static final String BRAID_DELIVERY_COUNT = "braid.delivery_count";
    /**
     * The player a span's work is for: the call's token, or its keyed hash, as
     * {@link io.braid.monitor.TracePlayers} says; also the OpenTelemetry baggage entry that carries
     * it to hops whose calls have no token of their own.
     */
    public static final String BRAID_PLAYER = "braid.player";
    /** On the SERVER span of a call that ran in its token's lane: ms it waited there (its queue time). */
    public static final String BRAID_LANE_WAIT_MS = "braid.lane.wait_ms";
    /** On a hand-over span: {@code handed_over}, {@code stayed}, {@code stale}, {@code failed}. */
    public static final String BRAID_OUTCOME = "braid.outcome";
    /** On a take-over span: the epoch of the player's link to the node it moved to. */
    public static final String BRAID_EPOCH = "braid.epoch";
    /** On a hand-over span: the node the player was offered to. */
    public static final String BRAID_TARGET_NODE = "braid.target_node";

    /** The INTERNAL child of a lane call's SERVER span that covers its wait in the lane: {@code <service> lane wait}. */
    public static final String LANE_WAIT_SUFFIX = " lane wait";
    /** The INTERNAL child that covers its run, current while the handler runs: {@code <service> lane run}. */
    public static final String LANE_RUN_SUFFIX = " lane run";

    /** The value of {@value #RPC_SYSTEM} and {@value #MESSAGING_SYSTEM}. */
    public static final String SYSTEM = "braid";

    private BraidSpans() {
    }
}
