package io.braid.monitor;

import com.google.protobuf.StringValue;
import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Pubsub;
import io.braid.api.internal.NodeView;
import io.braid.discover.internal.InMemoryDiscover;
import io.braid.discover.internal.InMemoryMembership;
import io.braid.elector.internal.InMemoryElections;
import io.braid.elector.internal.InMemoryElector;
import io.braid.linkcache.internal.InMemoryLinkCache;
import io.braid.linkcache.internal.InMemoryLinks;
import io.braid.monitor.internal.MonitorResources;
import io.braid.monitor.internal.Monitoring;
import io.braid.monitor.internal.NodeCaller;
import io.braid.pubsub.internal.InMemoryPubsub;
import io.braid.pubsub.internal.InMemoryStreams;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.Transports;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Nodes wired for these tests the way braid-runtime wires a node with its monitor (which this
 * module cannot depend on): in-memory discovery, election, links and topics shared by every node
 * of the cluster; an RPC server and client with the monitoring interceptors first; the
 * monitoring's handlers on the server; {@link Monitoring#start} once the node is registered, lent
 * the node's event loops and a client of its own for calling one node by id.
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
    record Spec(String service, String id, MonitorOptions http, OpenTelemetry openTelemetry, MeterRegistry registry,
                TracePlayers players) {
        Spec(String service, String id, MonitorOptions http, OpenTelemetry openTelemetry, MeterRegistry registry) {
            this(service, id, http, openTelemetry, registry, TracePlayers.PLAIN);
        }

        static Spec of(String service, String id) {
            return new Spec(service, id, null, null, null);
        }

        Spec withHttp(MonitorOptions options) {
            return new Spec(service, id, options, openTelemetry, registry, players);
        }

        Spec withTracing(OpenTelemetry otel) {
            return new Spec(service, id, http, otel, registry, players);
        }

        Spec withRegistry(MeterRegistry meters) {
            return new Spec(service, id, http, openTelemetry, meters, players);
        }

        Spec withPlayers(TracePlayers shown) {
            return new Spec(service, id, http, openTelemetry, registry, shown);
        }
    }

    /**
     * Starts a node and returns once every node of the cluster, this one included, lists it: each
     * node's discovery hears of a registration on its own, so a call made at once could otherwise
     * find no node (seen in CI: "no node of service 'logic' is registered").
     */
    TestNode start(Spec spec) {
        TestNode node = new TestNode(spec);
        nodes.add(node);
        String id = spec.id();
        for (TestNode peer : nodes) {
            io.braid.testkit.Await.until(Duration.ofSeconds(5), peer + " lists " + id,
                    () -> peer.discover.nodes(spec.service()).stream().anyMatch(n -> n.id().equals(id)));
        }
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
                    .sampling(Duration.ofMillis(100), 600).tracePlayers(spec.players());
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
                    .intercept(monitoring.serverInterceptor()).laneListener(monitoring.laneListener());
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
            MonitorResources lent = null;
            if (spec.http() != null) {
                EventLoopGroup group = Transports.newGroup(1, "monitor-" + spec.id());
                started.push(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
                RpcClient nodes = RpcClient.builder().discover(NodeCaller.byNodeId(discover)).nodeId(spec.id())
                        .propagateDeadlines(false).maxAttempts(1).shutdownGrace(Duration.ofSeconds(1))
                        .eventLoopGroup(group).build();
                started.push(nodes);
                lent = new MonitorResources(group, Transports.serverChannel(group), nodes);
            }
            monitoring.start(this, lent);
            started.push(monitoring); // closed first, before what was lent to it

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
