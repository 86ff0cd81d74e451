package io.braid.chaos;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.runtime.Braid;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A gateway node of the chaos cluster, in its own JVM. Bots call its stateless {@code play} with
 * their player token; it forwards the call to the player's logic node ({@code act}, token-sticky)
 * within the bot's deadline and answers with what the logic node said. It also consumes the audit
 * channel of the ledger topic, and reports like every node through {@link EventLog}.
 */
public final class GatewayNodeMain {
    private GatewayNodeMain() {
    }

    public static void main(String[] argv) throws Exception {
        NodeArgs args = NodeArgs.parse(argv);
        EventLog log = new EventLog(System.out, args.nodeId(), ChaosNames.GATEWAY);
        AtomicReference<Braid> self = new AtomicReference<>();
        ChannelOptions audit = ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST)
                .withRedeliverAfter(args.redeliverAfter()).withMaxDeliveries(1_000);
        Braid node = Braid.builder().service(ChaosNames.GATEWAY).nodeId(args.nodeId()).ioThreads(1)
                .redis(args.redisUri()).heartbeat(args.heartbeat(), args.ttl()).lease(args.lease())
                .shutdownGrace(java.time.Duration.ofSeconds(2))
                .handleAsync(ChaosNames.PLAY, StringValue.parser(), (ctx, request) -> {
                    Braid braid = self.get();
                    if (braid == null) { // registered a moment before start() returned
                        return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "gateway starting"));
                    }
                    return braid.invoke(ChaosNames.LOGIC, ChaosNames.ACT, request.getValue(), request,
                            StringValue.parser(), CallOptions.DEFAULT.withDeadline(ctx.deadline()));
                })
                .subscribe(ChaosNames.TOPIC, ChaosNames.AUDIT_CHANNEL, audit, message -> log.handled(
                        ChaosNames.AUDIT_CHANNEL, message.id(), message.headers().getOrDefault(ChaosNames.SEQ_HEADER, "?"),
                        EventLog.nowMicros(), message.deliveryCount()))
                .afterStart(self::set)
                .start();
        NodeMains.serveUntilStdinCloses(node, log);
    }
}
