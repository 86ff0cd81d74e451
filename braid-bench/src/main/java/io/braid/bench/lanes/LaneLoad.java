package io.braid.bench.lanes;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import io.braid.api.Node;
import io.braid.bench.core.Load;
import io.braid.bench.rpc.ServerMain;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.StaticDiscover;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * braid's {@code invoke(target, method, token, request, parser)} with a token, the tokens taken
 * round robin from a fixed set (one token: every call is the same player's), against one node of a
 * static list: one RpcClient with one I/O thread and one connection.
 */
final class LaneLoad implements Load {
    private static final String SERVICE = "echo";

    private final StaticDiscover discover;
    private final RpcClient client;
    private final BytesValue request;
    private final String method;
    private final String[] tokens;
    private final AtomicInteger next = new AtomicInteger();

    LaneLoad(int port, String method, int tokenCount, byte[] payload) {
        discover = StaticDiscover.of(Node.of("echo-1", SERVICE, ServerMain.HOST, port, 100));
        client = RpcClient.builder().discover(discover).ioThreads(1).build();
        request = BytesValue.of(ByteString.copyFrom(payload));
        this.method = method;
        tokens = new String[tokenCount];
        for (int i = 0; i < tokenCount; i++) {
            tokens[i] = "player-" + i;
        }
    }

    @Override
    public void start(Done done) {
        String token = tokens[Math.floorMod(next.getAndIncrement(), tokens.length)];
        client.invoke(SERVICE, method, token, request, BytesValue.parser())
                .whenComplete((response, error) -> done.done(error));
    }

    @Override
    public void close() {
        client.close();
        discover.close();
    }
}
