package io.braid.bench.rpc;

/** The echo servers a server JVM can run; each answers a request with its own payload. */
public enum ServerKind {
    /** Length-prefixed frames echoed whole by a Netty handler: the floor for any RPC over TCP. */
    NETTY_ECHO("netty-echo"),
    /**
     * braid's RpcServer, a blocking handler ({@code handle}) on the server's own handler threads:
     * virtual threads that serve call after call while calls keep coming (issue 18).
     */
    BRAID_VIRTUAL_THREAD("braid-virtual-thread"),
    /**
     * The same blocking handler on what the server's executor was before issue 18: a new virtual
     * thread started per call (lent as the blocking executor). The baseline of the threads' reuse.
     */
    BRAID_THREAD_PER_CALL("braid-thread-per-call"),
    /** braid's RpcServer, a {@code handleAsync} handler that never blocks, run inline on the event loop. */
    BRAID_INLINE("braid-inline"),
    /** gRPC-java unary over grpc-netty-shaded, byte[] marshaller, handler run on the transport thread. */
    GRPC_DIRECT("grpc-direct"),
    /** The same gRPC server with its default executor (a cached thread pool) running handlers. */
    GRPC_DEFAULT("grpc-default"),
    /**
     * braid's RpcServer serving the {@code lanes} section's four echo methods: {@code handleAsync},
     * {@code handleAsyncInLane}, {@code handle} and {@code handleInLane} (see {@code LanesSuite}).
     */
    BRAID_LANES("braid-lanes");

    private final String id;

    ServerKind(String id) {
        this.id = id;
    }

    /** The name on the server JVM's command line. */
    public String id() {
        return id;
    }

    public static ServerKind of(String id) {
        for (ServerKind kind : values()) {
            if (kind.id.equals(id)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown server kind '" + id + "'");
    }
}
