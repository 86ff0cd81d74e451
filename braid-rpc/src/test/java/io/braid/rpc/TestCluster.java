package io.braid.rpc;

import io.braid.api.Node;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.StaticDiscover;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Real servers on loopback, registered in a {@link StaticDiscover}, and clients that find them
 * there. Closes everything it made, in reverse order.
 */
final class TestCluster implements AutoCloseable {
    static final String SERVICE = "logic";

    final StaticDiscover discover = new StaticDiscover();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private int nextId = 1;

    /** Starts a server of {@link #SERVICE} on a free port and registers it with weight 100. */
    RpcServer server(Consumer<RpcServer> handlers) {
        return server(UnaryOperator.identity(), handlers);
    }

    RpcServer server(UnaryOperator<RpcServer.Builder> settings, Consumer<RpcServer> handlers) {
        RpcServer server = settings.apply(RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2))).build();
        handlers.accept(server);
        server.start();
        resources.add(server);
        discover.register(Node.of("node-" + nextId++, SERVICE, "127.0.0.1", server.port(), 100));
        return server;
    }

    Node nodeOf(RpcServer server) {
        return discover.nodes(SERVICE).stream().filter(n -> n.port() == server.port()).findFirst().orElseThrow();
    }

    RpcClient client() {
        return client(UnaryOperator.identity());
    }

    RpcClient client(UnaryOperator<RpcClient.Builder> settings) {
        RpcClient client = settings.apply(RpcClient.builder().discover(discover).nodeId("test-client").ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2))).build();
        resources.add(client);
        return client;
    }

    /** Closes {@code resource} with the rest, in reverse order. */
    <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        discover.close();
        if (first != null) {
            throw first;
        }
    }
}
