package io.braid.monitor.internal;

import io.braid.api.CallOptions;
import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Subscription;
import io.braid.rpc.RpcClient;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Calls one given node (not "a node of a service"), for the monitor's gathering and operator
 * actions: an RPC client of its own over a view of discovery in which every node is a service of
 * one, {@code braid.node:<id>}, ACTIVE whatever its state (a DRAINING node still answers its
 * figures). Its calls pass no interceptors, so they are neither timed nor traced.
 */
public final class NodeCaller implements AutoCloseable {
    static final String PREFIX = "braid.node:";

    private final RpcClient client;

    public NodeCaller(Discover discover, String nodeId, EventLoopGroup group, SslContext tls) {
        RpcClient.Builder settings = RpcClient.builder().discover(new ByNodeId(discover)).nodeId(nodeId)
                .propagateDeadlines(false).maxAttempts(1).shutdownGrace(Duration.ofSeconds(1));
        if (group != null) {
            settings.eventLoopGroup(group);
        } else {
            settings.ioThreads(1);
        }
        if (tls != null) {
            settings.tls(tls);
        }
        this.client = settings.build();
    }

    public CompletableFuture<byte[]> call(String nodeId, String method, byte[] request, Duration timeout) {
        return client.invoke(PREFIX + nodeId, method, "", request, CallOptions.DEFAULT.withTimeout(timeout));
    }

    @Override
    public void close() {
        client.close();
    }

    /** Discovery where each node is the only node of the service {@code braid.node:<id>}. */
    private static final class ByNodeId implements Discover {
        private final Discover discover;

        ByNodeId(Discover discover) {
            this.discover = discover;
        }

        @Override
        public List<Node> nodes(String service) {
            if (!service.startsWith(PREFIX)) {
                return List.of();
            }
            String id = service.substring(PREFIX.length());
            for (String real : discover.services()) {
                for (Node node : discover.nodes(real)) {
                    if (node.id().equals(id)) {
                        return List.of(addressed(node));
                    }
                }
            }
            return List.of();
        }

        private static Node addressed(Node node) {
            return new Node(node.id(), PREFIX + node.id(), node.host(), node.port(), Math.max(1, node.weight()),
                    NodeState.ACTIVE, node.metadata());
        }

        @Override
        public Set<String> services() {
            return Set.of();
        }

        @Override
        public Subscription watch(Consumer<DiscoverEvent> listener) {
            return discover.watch(event -> listener.accept(switch (event.type()) {
                case ADDED -> DiscoverEvent.added(addressed(event.node()));
                case REMOVED -> DiscoverEvent.removed(addressed(event.node()));
                case UPDATED -> DiscoverEvent.updated(addressed(event.previous()), addressed(event.node()));
            }));
        }

        @Override
        public void register(Node node) {
            throw new UnsupportedOperationException("the monitor's view of discovery is read-only");
        }

        @Override
        public void deregister(String nodeId) {
            throw new UnsupportedOperationException("the monitor's view of discovery is read-only");
        }

        @Override
        public void close() {
            // borrowed
        }
    }
}
