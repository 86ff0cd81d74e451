package io.braid.monitor.internal;

import io.braid.api.CallOptions;
import io.braid.api.Client;
import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Calls one given node (not "a node of a service"), for the monitor's gathering and operator
 * actions, through the client the node lends ({@link MonitorResources#nodes()}): a client over
 * {@link #byNodeId(Discover) a view of discovery} in which every node is a service of one,
 * {@code braid.node:<id>}, ACTIVE whatever its state (a DRAINING node still answers its figures).
 * That client passes no interceptors, so these calls are neither timed nor traced. Borrowed: never
 * closed here.
 */
public final class NodeCaller {
    static final String PREFIX = "braid.node:";

    private final Client client;

    public NodeCaller(Client client) {
        this.client = client;
    }

    /** The view of {@code discover} the node's client for {@link NodeCaller} must be built over. */
    public static Discover byNodeId(Discover discover) {
        return new ByNodeId(discover);
    }

    public CompletableFuture<byte[]> call(String nodeId, String method, byte[] request, Duration timeout) {
        return client.invoke(PREFIX + nodeId, method, "", request, CallOptions.DEFAULT.withTimeout(timeout));
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
