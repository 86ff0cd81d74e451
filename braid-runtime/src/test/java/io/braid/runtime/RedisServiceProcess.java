package io.braid.runtime;

import com.google.protobuf.StringValue;
import java.time.Duration;

/**
 * A game-server process on Redis as braid users write one: build, start, {@link Braid#run()}.
 * Prints lifecycle lines the test reads. Args: redis uri, then {@code linked} to link one player to
 * itself before running (so a drain has someone to wait for).
 */
public final class RedisServiceProcess {
    private RedisServiceProcess() {
    }

    public static void main(String[] args) throws Exception {
        Braid braid = Braid.builder().service("logic").nodeId("logic-run").ioThreads(1).redis(args[0])
                .redisCommandTimeout(Duration.ofSeconds(5)).drainTimeout(Duration.ofMinutes(5))
                .shutdownGrace(Duration.ofSeconds(1))
                .handle("ping", StringValue.parser(), (ctx, req) -> req)
                .beforeStop(node -> System.out.println("STOPPING " + node.node().state()))
                .afterStop(() -> System.out.println("STOPPED"))
                .start();
        if (args.length > 1 && args[1].equals("linked")) {
            braid.invoke("logic", "ping", "player-1", StringValue.of("hi"), StringValue.parser()).join();
        }
        System.out.println("READY");
        braid.run();
        System.out.println("RUN RETURNED");
    }
}
