package io.braid.chaos;

import com.google.protobuf.StringValue;
import io.braid.api.ChannelOptions;
import io.braid.runtime.Braid;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A logic node of the chaos cluster, in its own JVM so the orchestrator can kill it with SIGKILL
 * or freeze it with SIGSTOP. Serves {@code act} for player tokens (a per-player counter stands in
 * for game state), consumes the ledger channel, and reports every served call, handled message
 * and leadership interval through {@link EventLog}. Exits when its standard input closes (the
 * orchestrator is gone or asks it to stop), closing the node gracefully.
 */
public final class LogicNodeMain {
    private LogicNodeMain() {
    }

    public static void main(String[] argv) throws Exception {
        NodeArgs args = NodeArgs.parse(argv);
        EventLog log = new EventLog(System.out, args.nodeId(), ChaosNames.LOGIC);
        Map<String, Long> actions = new ConcurrentHashMap<>();
        ChannelOptions ledger = ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST)
                .withRedeliverAfter(args.redeliverAfter()).withMaxDeliveries(1_000);
        Braid.Builder settings = Braid.builder().service(ChaosNames.LOGIC).nodeId(args.nodeId()).ioThreads(1);
        args.controlPlane(settings).heartbeat(args.heartbeat(), args.ttl()).lease(args.lease())
                .shutdownGrace(java.time.Duration.ofSeconds(2))
                .handle(ChaosNames.ACT, StringValue.parser(), (ctx, request) -> {
                    long start = EventLog.nowMicros();
                    long count = actions.merge(ctx.token(), 1L, Long::sum);
                    long end = EventLog.nowMicros();
                    log.served(ctx.token(), start, end);
                    return StringValue.of(args.nodeId() + " " + count);
                })
                .subscribe(ChaosNames.TOPIC, ChaosNames.LEDGER_CHANNEL, ledger, message -> log.handled(
                        ChaosNames.LEDGER_CHANNEL, message.id(), message.headers().getOrDefault(ChaosNames.SEQ_HEADER, "?"),
                        EventLog.nowMicros(), message.deliveryCount()));
        Braid node = NodeMains.start(settings);
        NodeMains.serveUntilStdinCloses(node, log);
    }
}
