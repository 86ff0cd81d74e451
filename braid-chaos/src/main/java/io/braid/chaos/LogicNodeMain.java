package io.braid.chaos;

import com.google.protobuf.StringValue;
import io.braid.api.ChannelOptions;
import io.braid.api.PlayerStates;
import io.braid.runtime.Braid;
import io.braid.runtime.Players;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A logic node of the chaos cluster, in its own JVM so the orchestrator can kill it with SIGKILL,
 * freeze it with SIGSTOP or drain it with SIGTERM. Serves {@code act} as a player method
 * ({@link Players}): each player's state is a counter that each call adds one to and answers
 * ("node counter"), snapshotted as the count and saved write-through to the control plane's store,
 * so what a bot was told survives a handoff (drain, relink) and a kill -9 of this node. Also serves
 * the players' open streams ({@code tell}: each message handled is a step of that player's game,
 * answered at once with a per-node step count that is no player state), consumes the ledger channel
 * and the slow channel, and reports every served call, stream message, handled message and
 * leadership interval through {@link EventLog}. Exits when its standard input closes (the
 * orchestrator is gone or asks it to stop), closing the node gracefully, or once a SIGTERM's drain
 * ({@link Braid#run()}) has handed its players over and closed it.
 */
public final class LogicNodeMain {
    /** The slow channel's handler takes this long per message at least, and up to three times as long. */
    static final long SLOW_HANDLER_MILLIS = 40;
    /** How long a drain may hand players over before the node closes anyway. */
    static final java.time.Duration DRAIN_TIMEOUT = java.time.Duration.ofSeconds(20);

    private LogicNodeMain() {
    }

    public static void main(String[] argv) throws Exception {
        NodeArgs args = NodeArgs.parse(argv);
        EventLog log = new EventLog(System.out, args.nodeId(), ChaosNames.LOGIC);
        Map<String, Long> streamSteps = new ConcurrentHashMap<>();
        ChannelOptions fromTheStart = ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST)
                .withRedeliverAfter(args.redeliverAfter()).withMaxDeliveries(1_000);
        Braid.Builder settings = Braid.builder().service(ChaosNames.LOGIC).nodeId(args.nodeId()).ioThreads(1);
        args.controlPlane(settings)
                .shutdownGrace(java.time.Duration.ofSeconds(2))
                .drainTimeout(DRAIN_TIMEOUT)
                .players(counters(args.nodeId(), log))
                .handleStream(ChaosNames.STREAM, StringValue.parser(), (ctx, in, out) -> {
                    for (StringValue message = in.read(); message != null; message = in.read()) {
                        long start = EventLog.nowMicros();
                        String text = message.getValue();
                        int slash = text.indexOf('/');
                        long count = streamSteps.merge(ctx.token(), 1L, Long::sum);
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

    /**
     * The players: a counter per token (a {@code long[1]}; its snapshot the count as 8 bytes), which
     * {@code act} adds one to and answers as "node counter", saved write-through: the save is in the
     * store before the answer leaves, and a call whose save fails or is refused (a newer owner)
     * answers UNAVAILABLE. Activated afresh at 0, or from the snapshot a handoff or the store gave.
     * The handler's run is reported as served work ({@link EventLog#served}).
     */
    static Players<long[]> counters(String nodeId, EventLog log) {
        return Players.of(new PlayerStates<long[]>() {
            @Override
            public long[] activate(String token, Activation how, byte[] snapshot) {
                return new long[] {how == Activation.FRESH ? 0 : ByteBuffer.wrap(snapshot).getLong()};
            }

            @Override
            public byte[] snapshot(long[] state) {
                return ByteBuffer.allocate(Long.BYTES).putLong(state[0]).array();
            }

            @Override
            public void deactivate(long[] state, Deactivation why) {
                // the counter is in the store (write-through); nothing else to release
            }
        }).handle(ChaosNames.ACT, StringValue.parser(), (player, ctx, request) -> {
            long start = EventLog.nowMicros();
            long count = ++player.state()[0];
            long end = EventLog.nowMicros();
            log.served(ctx.token(), start, end);
            return StringValue.of(nodeId + " " + count);
        }).writeThrough();
    }
}
