package io.braid.bench.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import io.braid.api.Node;
import io.braid.bench.core.Load;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.StaticDiscover;

/**
 * braid's {@code invoke(target, method, "", request, parser)} without a token (a stateless call),
 * as a user writes it: an RpcClient with one I/O thread over a static list of one node, one
 * multiplexed connection per "connection" of the cell ({@code connectionsPerPeer}, used round
 * robin by the client itself).
 */
final class BraidLoad implements Load {
    private static final String SERVICE = "echo";

    private final StaticDiscover discover;
    private final RpcClient client;
    private final BytesValue request;

    BraidLoad(int port, int connections, byte[] payload) {
        discover = StaticDiscover.of(Node.of("echo-1", SERVICE, ServerMain.HOST, port, 100));
        client = RpcClient.builder().discover(discover).ioThreads(1).connectionsPerPeer(connections).build();
        request = BytesValue.of(ByteString.copyFrom(payload));
    }

    @Override
    public void start(Done done) {
        client.invoke(SERVICE, ServerMain.ECHO, "", request, BytesValue.parser())
                .whenComplete((response, error) -> done.done(error));
    }

    @Override
    public void close() {
        client.close();
        discover.close();
    }
}
