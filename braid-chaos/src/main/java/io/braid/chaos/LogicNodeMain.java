package io.braid.chaos;

import com.google.protobuf.StringValue;
import io.braid.api.ChannelOptions;
import io.braid.runtime.Braid;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A logic node of the chaos cluster, in its own JVM so the orchestrator can kill it with SIGKILL
 * or freeze it with SIGSTOP. Serves {@code act} for player tokens (a per-player counter stands in
 * for game state) and the players' open streams ({@code tell}: each message handled is a step of
 * that player's game, answered at once), consumes the ledger channel and the slow channel, and
 * reports every served call, stream message, handled message and leadership interval through
 * {@link EventLog}. Exits when its standard input closes (the orchestrator is gone or asks it to
 * stop), closing the node gracefully.
 */
public final class LogicNodeMain {
    /** The slow channel's handler takes this long per message at least, and up to three times as long. */
    static final long SLOW_HANDLER_MILLIS = 40;

    private LogicNodeMain() {
    }

    public static void main(String[] argv) throws Exception {
        NodeArgs args = NodeArgs.parse(argv);
        EventLog log = new EventLog(System.out, args.nodeId(), ChaosNames.LOGIC);
        Map<String, Long> actions = new ConcurrentHashMap<>();
        ChannelOptions fromTheStart = ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST)
                .withRedeliverAfter(args.redeliverAfter()).withMaxDeliveries(1_000);
        Braid.Builder settings = Braid.builder().service(ChaosNames.LOGIC).nodeId(args.nodeId()).ioThreads(1);
        args.controlPlane(settings)
                .shutdownGrace(java.time.Duration.ofSeconds(2))
                .handle(ChaosNames.ACT, StringValue.parser(), (ctx, request) -> {
                    long start = EventLog.nowMicros();
                    long count = actions.merge(ctx.token(), 1L, Long::sum);
                    long end = EventLog.nowMicros();
                    log.served(ctx.token(), start, end);
                    return StringValue.of(args.nodeId() + " " + count);
                })
                .handleStream(ChaosNames.STREAM, StringValue.parser(), (ctx, in, out) -> {
                    for (StringValue message = in.read(); message != null; message = in.read()) {
                        long start = EventLog.nowMicros();
                        String text = message.getValue();
                        int slash = text.indexOf('/');
                        long count = actions.merge(ctx.token(), 1L, Long::sum);
                        long end = EventLog.nowMicros();
                        // logged before the answer leaves: a node killed now loses only an unanswered step
                        log.streamed(ctx.token(), text.substring(0, slash), text.substring(slash + 1), start, end);
                        out.write(StringValue.of(args.nodeId() + " " + count));
                    }
                })
                .subscribe(ChaosNames.TOPIC, ChaosNames.LEDGER_CHANNEL, fromTheStart, message -> log.handled(
                        ChaosNames.LEDGER_CHANNEL, message.id(), message.headers().getOrDefault(ChaosNames.SEQ_HEADER, "?"),
                        EventLog.nowMicros(), message.deliveryCount()))
                .subscribe(ChaosNames.TOPIC, ChaosNames.SLOW_CHANNEL, fromTheStart, message -> {
                    Thread.sleep(SLOW_HANDLER_MILLIS + ThreadLocalRandom.current().nextLong(2 * SLOW_HANDLER_MILLIS + 1));
                    log.handled(ChaosNames.SLOW_CHANNEL, message.id(),
                            message.headers().getOrDefault(ChaosNames.SEQ_HEADER, "?"), EventLog.nowMicros(),
                            message.deliveryCount());
                });
        Braid node = NodeMains.start(settings);
        NodeMains.serveUntilStdinCloses(node, log);
    }
}
