package io.braid.bench.rpc;

import io.braid.bench.core.Load;

/**
 * One side of an echo comparison: a name in the report, the server JVM that serves it and how
 * the bench JVM opens its client.
 */
public record EchoSubject(String name, ServerProcess server, Opener opener) {

    /** Opens the client load of one cell: its connections to {@code port}, its payload. */
    @FunctionalInterface
    public interface Opener {
        Load open(int port, EchoCell cell, byte[] payload) throws Exception;
    }

    /** Bare Netty length-prefixed echo against a {@link ServerKind#NETTY_ECHO} server. */
    public static EchoSubject nettyEcho(String name, ServerProcess server) {
        return new EchoSubject(name, server, (port, cell, payload) -> new NettyEchoLoad(port, cell.connections(),
                payload));
    }

    /** braid invoke without a token against a braid server of either handler mode. */
    public static EchoSubject braid(String name, ServerProcess server) {
        return new EchoSubject(name, server, (port, cell, payload) -> new BraidLoad(port, cell.connections(),
                payload));
    }

    /** gRPC-java unary; the client uses the same executor choice as the server it calls. */
    public static EchoSubject grpc(String name, ServerProcess server) {
        boolean direct = server.kind() == ServerKind.GRPC_DIRECT;
        return new EchoSubject(name, server, (port, cell, payload) -> new GrpcLoad(port, cell.connections(),
                payload, direct));
    }

    Load open(EchoCell cell) throws Exception {
        return opener.open(server.port(), cell, new byte[cell.payloadBytes()]);
    }
}
