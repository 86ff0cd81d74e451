package io.braid.chaos;

import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.ChannelOptions;
import io.braid.runtime.Braid;
import java.util.concurrent.CompletableFuture;

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
        // Registration comes before start() returns: a call arriving meanwhile waits for the node
        // (its deadline still holds) instead of failing.
        CompletableFuture<Braid> self = new CompletableFuture<>();
        ChannelOptions audit = ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST)
                .withRedeliverAfter(args.redeliverAfter()).withMaxDeliveries(1_000);
        Braid.Builder settings = Braid.builder().service(ChaosNames.GATEWAY).nodeId(args.nodeId()).ioThreads(1);
        args.controlPlane(settings)
                .shutdownGrace(java.time.Duration.ofSeconds(2))
                .handleAsync(ChaosNames.PLAY, StringValue.parser(), (ctx, request) -> self.thenCompose(braid -> braid
                        .invoke(ChaosNames.LOGIC, ChaosNames.ACT, request.getValue(), request, StringValue.parser(),
                                CallOptions.DEFAULT.withDeadline(ctx.deadline()))))
                .subscribe(ChaosNames.TOPIC, ChaosNames.AUDIT_CHANNEL, audit, message -> log.handled(
                        ChaosNames.AUDIT_CHANNEL, message.id(), message.headers().getOrDefault(ChaosNames.SEQ_HEADER, "?"),
                        EventLog.nowMicros(), message.deliveryCount()))
                .afterStart(self::complete);
        Braid node = NodeMains.start(settings);
        NodeMains.serveUntilStdinCloses(node, log);
    }
}
