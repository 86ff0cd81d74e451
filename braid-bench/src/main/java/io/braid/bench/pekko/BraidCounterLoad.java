package io.braid.bench.pekko;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Int64Value;
import io.braid.api.CallOptions;
import io.braid.api.Node;
import io.braid.bench.core.Load;
import io.braid.linkcache.internal.InMemoryLinkCache;
import io.braid.linkcache.internal.InMemoryLinks;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.StaticDiscover;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * braid's token call to a counter: {@code invoke(counter, method, token, 64 B)} from one
 * {@code RpcClient} (one I/O thread, one connection per node) over two logic nodes. The client's
 * link cache (in memory, in this JVM) sends each token to the node it was first linked to,
 * as Pekko's region sends an entity's messages to its shard's home; tokens are the same strings as
 * Pekko's entity ids, taken round robin.
 */
final class BraidCounterLoad implements Load {
    private final StaticDiscover discover;
    private final RpcClient client;
    private final BytesValue request;
    private final String[] tokens;
    private final CallOptions options;
    private final String method;
    private final AtomicInteger next = new AtomicInteger();

    /**
     * @param links  the links this client routes by (loads sharing them send a token to the same node)
     * @param method {@link BraidCounterMain#INCREMENT} or {@link BraidCounterMain#INCREMENT_BLOCKING}
     */
    BraidCounterLoad(List<Integer> ports, InMemoryLinks links, String method, int tokenCount, byte[] payload,
            Duration timeout) {
        if (tokenCount < 1) {
            throw new IllegalArgumentException("tokenCount must be >= 1, was " + tokenCount);
        }
        Node[] nodes = new Node[ports.size()];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = Node.of("counter-" + (i + 1), BraidCounterMain.SERVICE, PekkoMember.HOST, ports.get(i), 100);
        }
        discover = StaticDiscover.of(nodes);
        client = RpcClient.builder().discover(discover).linkCache(new InMemoryLinkCache(links))
                .ioThreads(1).build();
        request = BytesValue.of(ByteString.copyFrom(payload));
        tokens = new String[tokenCount];
        for (int i = 0; i < tokenCount; i++) {
            tokens[i] = PekkoAskLoad.entityId(i);
        }
        options = CallOptions.DEFAULT.withTimeout(timeout);
        this.method = method;
    }

    @Override
    public void start(Done done) {
        String token = tokens[Math.floorMod(next.getAndIncrement(), tokens.length)];
        client.invoke(BraidCounterMain.SERVICE, method, token, request, Int64Value.parser(),
                options).whenComplete((response, error) -> done.done(error));
    }

    /** One increment of token {@code i} within {@code within}, for priming and checks: the token's new count. */
    CompletableFuture<Int64Value> increment(int i, Duration within) {
        return client.invoke(BraidCounterMain.SERVICE, method, tokens[i], request, Int64Value.parser(),
                CallOptions.DEFAULT.withTimeout(within));
    }

    int tokenCount() {
        return tokens.length;
    }

    @Override
    public void close() {
        client.close();
        discover.close();
    }
}
