package io.braid.bench.pekko;

import com.google.protobuf.BytesValue;
import com.google.protobuf.Int64Value;
import io.braid.rpc.internal.RpcServer;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A braid logic node holding a counter per token, in a server JVM of its own: an
 * {@code RpcServer} (one event-loop thread, loopback, a free port) whose methods run in the token's
 * lane (one call at a time per token) and answer the token's new count: {@link #INCREMENT} with
 * {@code handleAsyncInLane} (inline when the lane is free), {@link #INCREMENT_BLOCKING} with
 * {@code handleInLane} (on a virtual thread, reused from call to call). Speaks {@link ServedJvm}'s protocol.
 */
public final class BraidCounterMain {
    static final String SERVICE = "counter";
    static final String INCREMENT = "increment";
    static final String INCREMENT_BLOCKING = "increment.blocking";

    private BraidCounterMain() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = ServedJvm.takeStdout();
        RpcServer server = RpcServer.builder().host(PekkoMember.HOST).port(0).ioThreads(1).build();
        ConcurrentHashMap<String, AtomicLong> counts = new ConcurrentHashMap<>();
        server.handleAsyncInLane(INCREMENT, BytesValue.parser(), (ctx, request) -> CompletableFuture.completedFuture(
                Int64Value.of(counts.computeIfAbsent(ctx.token(), token -> new AtomicLong()).incrementAndGet())));
        server.handleInLane(INCREMENT_BLOCKING, BytesValue.parser(), (ctx, request) ->
                Int64Value.of(counts.computeIfAbsent(ctx.token(), token -> new AtomicLong()).incrementAndGet()));
        server.start();
        ServedJvm.serve(out, server.port(), server::close);
        System.exit(0);
    }
}
