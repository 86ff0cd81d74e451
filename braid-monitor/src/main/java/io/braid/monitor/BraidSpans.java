package io.braid.monitor;

/**
 * The names of braid's spans and of their attributes. A call makes a CLIENT span
 * {@code <target>/<method>} on the caller and a SERVER span {@code <service>/<method>} on the node
 * that serves it; a publish makes a PRODUCER span {@code <topic> publish}, each delivery a CONSUMER
 * span {@code <topic>/<channel> process}. The W3C trace context travels in the call's metadata
 * and in the message's headers ({@value #TRACEPARENT}, {@value #TRACESTATE}).
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

    /** The value of {@value #RPC_SYSTEM} and {@value #MESSAGING_SYSTEM}. */
    public static final String SYSTEM = "braid";

    private BraidSpans() {
    }
}
