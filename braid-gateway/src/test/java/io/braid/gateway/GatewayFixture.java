package io.braid.gateway;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.monitor.MonitorOptions;
import io.braid.runtime.Braid;
import io.braid.runtime.InMemoryControlPlane;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A small cluster for gateway tests: one logic node ({@code logic}: {@code player.act} answers
 * {@code acted:<token>:<payload>}, {@code player.fail} fails FAILED_PRECONDITION) and gateway
 * nodes of service {@value #SERVICE}, each with a Gateway on loopback (WebSocket and TCP, free
 * ports). Login: credentials {@code player:NAME} give token {@code player:NAME}; anything else is
 * UNAUTHENTICATED. Closes everything it started, gateways first.
 */
final class GatewayFixture implements AutoCloseable {
    static final String SERVICE = "gateway";
    static final RouteTable ROUTES = RouteTable.of("logic.player.act", "logic.player.fail");

    private final UnaryOperator<Braid.Builder> plane;
    private final List<AutoCloseable> toClose = Collections.synchronizedList(new ArrayList<>());
    final List<SessionEvent> events = new CopyOnWriteArrayList<>();
    /** How many {@code player.act} calls reached the logic node, by token. */
    final Map<String, AtomicInteger> acted = new ConcurrentHashMap<>();
    final Braid logic;

    private GatewayFixture(UnaryOperator<Braid.Builder> plane) {
        this.plane = plane;
        this.logic = plane.apply(Braid.builder().service("logic").nodeId("logic-1"))
                .handleBytes("player.act", (ctx, request) -> {
                    acted.computeIfAbsent(ctx.token(), token -> new AtomicInteger()).incrementAndGet();
                    return ("acted:" + ctx.token() + ":" + new String(request, StandardCharsets.UTF_8))
                            .getBytes(StandardCharsets.UTF_8);
                })
                .handleBytes("player.fail", (ctx, request) -> {
                    throw new BraidException(Code.FAILED_PRECONDITION, "no such move");
                })
                .start();
        toClose.add(logic);
    }

    static GatewayFixture inMemory() {
        return inMemory(node -> node);
    }

    /** In memory, every node (the logic node and each gateway node) also set by {@code each}. */
    static GatewayFixture inMemory(UnaryOperator<Braid.Builder> each) {
        InMemoryControlPlane plane = new InMemoryControlPlane("gateway-test-" + UUID.randomUUID());
        return new GatewayFixture(node -> each.apply(node.inMemory(plane)));
    }

    static GatewayFixture onRedis(String uri) {
        return new GatewayFixture(node -> node.redis(uri));
    }

    /** On Redis, every node also set by {@code each}. */
    static GatewayFixture onRedis(String uri, UnaryOperator<Braid.Builder> each) {
        return new GatewayFixture(node -> each.apply(node.redis(uri)));
    }

    static GatewayFixture onRedisCluster(List<String> seeds) {
        return new GatewayFixture(node -> node.redisCluster(seeds));
    }

    static CompletableFuture<String> login(byte[] credentials) {
        String text = new String(credentials, StandardCharsets.UTF_8);
        if (!text.startsWith("player:") || text.length() == "player:".length()) {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAUTHENTICATED, "wrong credentials"));
        }
        return CompletableFuture.completedFuture(text);
    }

    /**
     * The resume grace of the fixture's gateways unless a test sets its own: short, so that a
     * closed test client's session ends (CLOSED, unbound) soon.
     */
    static final Duration GRACE = Duration.ofMillis(300);

    /** A gateway node with its Gateway; {@code settings} may change the gateway's settings. */
    GatewayNode gateway(String nodeId, UnaryOperator<Gateway.Builder> settings) {
        return start(Braid.builder().service(SERVICE).nodeId(nodeId), settings);
    }

    GatewayNode gateway(String nodeId) {
        return gateway(nodeId, builder -> builder);
    }

    /** A gateway node as {@link #gateway(String, UnaryOperator)} makes it, with its monitor on a free loopback port. */
    GatewayNode monitoredGateway(String nodeId, UnaryOperator<Gateway.Builder> settings) {
        return start(Braid.builder().service(SERVICE).nodeId(nodeId).monitor(MonitorOptions.port(0)), settings);
    }

    /**
     * A node of service {@value #SERVICE} without a Gateway (yet): as a gateway node is between its
     * node's start and its Gateway's, registered but without the gateway's methods.
     */
    Braid bareGatewayNode(String nodeId) {
        Braid node = plane.apply(Braid.builder().service(SERVICE).nodeId(nodeId)).start();
        toClose.add(0, node);
        return node;
    }

    private GatewayNode start(Braid.Builder nodeSettings, UnaryOperator<Gateway.Builder> settings) {
        Braid node = plane.apply(nodeSettings).start();
        toClose.add(0, node);
        Gateway gateway = settings.apply(Gateway.builder(node).login((credentials, remote) -> login(credentials))
                .routes(ROUTES).webSocket(0).tcp(0).resumeGrace(GRACE).sessionListener(events::add)).start();
        toClose.add(0, gateway);
        return new GatewayNode(node, gateway);
    }

    record GatewayNode(Braid node, Gateway gateway) {
        InetSocketAddress ws() {
            return gateway.webSocketAddress().orElseThrow();
        }

        InetSocketAddress tcp() {
            return gateway.tcpAddress().orElseThrow();
        }

        String id() {
            return node.node().id();
        }
    }

    /**
     * Kills {@code gateway} as a crashed process would lose it, as far as one JVM can: the gateway
     * stops without a word (connections dropped, no session ended, no CLOSED event, no unlink, no
     * record changed: {@code Gateway.crash}), then its node closes, which takes it out of discovery
     * (a kill -9 leaves it there until the discovery ttl; the resume's timer covers that case).
     */
    void crash(GatewayNode gateway) {
        gateway.gateway().crash();
        gateway.node().close();
    }

    /** The gateway node the token's binding names now, if any. */
    String boundTo(String token) {
        return logic.linkCache().target(token, SERVICE).orElse(null);
    }

    GatewayPush pusher() {
        return GatewayPush.of(logic.client(), SERVICE);
    }

    /** How many {@code player.act} calls of {@code token} reached the logic node. */
    int actedFor(String token) {
        AtomicInteger count = acted.get(token);
        return count == null ? 0 : count.get();
    }

    List<SessionEvent> eventsOf(String token) {
        return events.stream().filter(event -> event.token().equals(token)).toList();
    }

    @Override
    public void close() throws Exception {
        List<AutoCloseable> all;
        synchronized (toClose) {
            all = new ArrayList<>(toClose);
        }
        for (AutoCloseable closeable : all) {
            closeable.close();
        }
    }
}
