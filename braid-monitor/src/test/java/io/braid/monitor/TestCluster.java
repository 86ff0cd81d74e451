package io.braid.monitor;

import com.google.protobuf.StringValue;
import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Pubsub;
import io.braid.discover.InMemoryDiscover;
import io.braid.discover.InMemoryMembership;
import io.braid.elector.InMemoryElections;
import io.braid.elector.InMemoryElector;
import io.braid.linkcache.InMemoryLinkCache;
import io.braid.linkcache.InMemoryLinks;
import io.braid.pubsub.InMemoryPubsub;
import io.braid.pubsub.InMemoryStreams;
import io.braid.rpc.RpcClient;
import io.braid.rpc.RpcServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * Nodes wired for these tests the way braid-runtime wires a node with its monitor (which this
 * module cannot depend on): in-memory discovery, election, links and topics shared by every node
 * of the cluster; an RPC server and client with the monitoring interceptors first; the
 * monitoring's handlers on the server; {@link Monitoring#start} once the node is registered.
 * Every node serves {@code hello} (answers "hello X from node"), {@code relay} (calls hello on the
 * service named in the request) and {@code fail} (throws).
 */
final class TestCluster implements AutoCloseable {
    private final InMemoryMembership membership = new InMemoryMembership();
    private final InMemoryElections elections = new InMemoryElections();
    private final InMemoryLinks links = new InMemoryLinks();
    private final InMemoryStreams streams = new InMemoryStreams();
    private final List<TestNode> nodes = new ArrayList<>();

    /** Settings of one node. */
    record Spec(String service, String id, MonitorOptions http, OpenTelemetry openTelemetry, MeterRegistry registry) {
        static Spec of(String service, String id) {
            return new Spec(service, id, null, null, null);
        }

        Spec withHttp(MonitorOptions options) {
            return new Spec(service, id, options, openTelemetry, registry);
        }

        Spec withTracing(OpenTelemetry otel) {
            return new Spec(service, id, http, otel, registry);
        }
    }

    TestNode start(Spec spec) {
        TestNode node = new TestNode(spec);
        nodes.add(node);
        return node;
    }

    List<TestNode> nodes() {
        return nodes;
    }

    @Override
    public void close() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
    }

    final class TestNode implements NodeView, AutoCloseable {
        final Monitoring monitoring;
        final RpcServer server;
        final RpcClient client;
        final InMemoryDiscover discover;
        final InMemoryElector elector;
        final LinkCache linkCache;
        final InMemoryPubsub rawPubsub;
        final Pubsub pubsub;
        private final Deque<AutoCloseable> started = new ArrayDeque<>();
        private volatile Node node;
        volatile int drains;

        TestNode(Spec spec) {
            Monitoring.Builder settings = Monitoring.builder(spec.service(), spec.id())
                    .sampling(Duration.ofMillis(100), 600);
            if (spec.http() != null) {
                settings.http(spec.http());
            }
            if (spec.openTelemetry() != null) {
                settings.openTelemetry(spec.openTelemetry());
            }
            if (spec.registry() != null) {
                settings.meterRegistry(spec.registry());
            }
            monitoring = settings.build();
            started.push(monitoring);
            discover = new InMemoryDiscover(membership);
            started.push(discover);
            linkCache = new InMemoryLinkCache(links, monitoring.linkCacheListener());
            rawPubsub = new InMemoryPubsub(streams, spec.id(), monitoring.pubsubListener());
            started.push(rawPubsub);
            pubsub = monitoring.traced(rawPubsub);
            client = RpcClient.builder().discover(discover).linkCache(linkCache).nodeId(spec.id()).ioThreads(1)
                    .intercept(monitoring.clientInterceptor()).build();
            started.push(client);
            RpcServer.Builder serverSettings = RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1)
                    .intercept(monitoring.serverInterceptor());
            server = serverSettings.build();
            server.handle("hello", StringValue.parser(),
                    (ctx, req) -> StringValue.of("hello " + req.getValue() + " from " + spec.id()));
            // "relay" calls hello on the service named in the request, from inside the handler.
            server.handle("relay", StringValue.parser(), (ctx, req) -> StringValue.of(
                    client.invoke(req.getValue(), "hello", ctx.token(), StringValue.of(spec.id()), StringValue.parser())
                            .join().getValue()));
            server.handle("fail", StringValue.parser(), (ctx, req) -> {
                throw new IllegalStateException("asked to fail");
            });
            for (Map.Entry<String, io.braid.api.Handler<byte[], byte[]>> handler : monitoring.handlers().entrySet()) {
                server.handleBytes(handler.getKey(), handler.getValue());
            }
            server.start();
            started.push(server);
            node = Node.of(spec.id(), spec.service(), "127.0.0.1", server.port(), 100);
            discover.register(node);
            elector = new InMemoryElector(elections, spec.service(), spec.id());
            started.push(elector);
            monitoring.start(this, null, null);
        }

        @Override
        public Node node() {
            return node;
        }

        @Override
        public Discover discover() {
            return discover;
        }

        @Override
        public Elector elector() {
            return elector;
        }

        @Override
        public LinkCache linkCache() {
            return linkCache;
        }

        @Override
        public Pubsub pubsub() {
            return rawPubsub;
        }

        @Override
        public synchronized void drain() {
            drains++;
            node = node.withState(NodeState.DRAINING);
            discover.register(node);
        }

        @Override
        public synchronized void weight(int weight) {
            node = node.withWeight(weight);
            discover.register(node);
        }

        String hello(String target, String token, String name) {
            return client.invoke(target, "hello", token, StringValue.of(name), StringValue.parser()).join().getValue();
        }

        String baseUrl() {
            var address = monitoring.httpAddress().orElseThrow();
            return "http://127.0.0.1:" + address.getPort();
        }

        @Override
        public void close() {
            while (!started.isEmpty()) {
                try {
                    started.pop().close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
