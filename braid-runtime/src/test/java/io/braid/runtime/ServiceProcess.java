package io.braid.runtime;

import com.google.protobuf.StringValue;

/**
 * A game-server process as braid users write one: build, start, {@link Braid#run()}. Prints
 * lifecycle lines the test reads. Args: in-memory cluster name.
 */
public final class ServiceProcess {
    private ServiceProcess() {
    }

    public static void main(String[] args) throws Exception {
        Braid braid = Braid.builder().service("logic").nodeId("logic-run").ioThreads(1).inMemory(args[0])
                .handle("ping", StringValue.parser(), (ctx, req) -> req)
                .afterStart(node -> System.out.println("STARTED " + node.node().port()))
                .beforeStop(node -> System.out.println("STOPPING " + node.node().state()))
                .afterStop(() -> System.out.println("STOPPED"))
                .start();
        braid.run();
        System.out.println("RUN RETURNED");
    }
}
