package io.braid.runtime;

import com.google.protobuf.StringValue;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;

/**
 * A logic node in a child JVM, so a test can kill it with -9. Args: redis uri, node id. Prints
 * {@code READY} once registered, then {@code S <wallMillis> <nodeId> <token>} for every token call
 * it serves, flushed before the answer leaves. Exits when its stdin closes (the test JVM is gone),
 * so a crashed test leaves no orphan behind.
 */
public final class LogicNodeProcess {
    private LogicNodeProcess() {
    }

    public static void main(String[] args) throws IOException {
        String redisUri = args[0];
        String nodeId = args[1];
        PrintStream out = System.out;
        Braid node = Braid.builder().service(StickyRoutingContract.LOGIC).nodeId(nodeId).ioThreads(1).redis(redisUri)
                .handle(StickyRoutingContract.WHERE, StringValue.parser(), (ctx, request) -> {
                    synchronized (out) {
                        out.println("S " + System.currentTimeMillis() + " " + nodeId + " " + ctx.token());
                        out.flush();
                        if (out.checkError()) {
                            throw new UncheckedIOException(new IOException("cannot record a served call"));
                        }
                    }
                    return StringValue.of(nodeId);
                })
                .start();
        synchronized (out) {
            out.println("READY");
            out.flush();
        }
        while (System.in.read() >= 0) {
            // the test never writes; end of input means it is gone
        }
        node.close();
    }
}
