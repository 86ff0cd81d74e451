package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bad settings fail at once, naming the setting; a node runs at most one gateway; a builder
 * changed after start() changes nothing in the gateway it started.
 */
class GatewayBuilderTest {
    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @Test
    void settingsAreCheckedWhenSet() {
        Gateway.Builder builder = Gateway.builder(one.node());
        assertThatThrownBy(() -> builder.maxFrameBytes(0)).hasMessageContaining("maxFrameBytes");
        assertThatThrownBy(() -> builder.idleTimeout(Duration.ZERO)).hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> builder.tcp(70_000)).hasMessageContaining("tcp port");
        assertThatThrownBy(() -> builder.webSocketPath("ws")).hasMessageContaining("webSocketPath");
        assertThatThrownBy(() -> RouteTable.of("nodot")).hasMessageContaining("service.method");
        assertThatThrownBy(() -> builder.resumeGrace(Duration.ofMillis(-1))).hasMessageContaining("resumeGrace");
        assertThatThrownBy(() -> builder.resumeGrace(Duration.ofHours(2))).hasMessageContaining("resumeGrace");
        assertThatThrownBy(() -> builder.replayMaxPushes(0)).hasMessageContaining("replayMaxPushes");
        assertThatThrownBy(() -> builder.replayMaxBytes(100)).hasMessageContaining("replayMaxBytes");
        assertThatThrownBy(() -> builder.replayMaxBytes(Gateway.MAX_REPLAY_MAX_BYTES + 1))
                .hasMessageContaining("replayMaxBytes");
        assertThatThrownBy(() -> builder.maxPendingBytes(1024)).hasMessageContaining("maxPendingBytes");
        builder.resumeGrace(Duration.ZERO); // resume off: allowed
        assertThatThrownBy(() -> builder.callRateLimit(0, 10)).hasMessageContaining("callRateLimit");
        assertThatThrownBy(() -> builder.callRateLimit(10, 0)).hasMessageContaining("callRateLimit burst");
        assertThatThrownBy(() -> builder.byteRateLimit(1023, 64 * 1024)).hasMessageContaining("byteRateLimit");
        assertThatThrownBy(() -> builder.byteRateLimit(64 * 1024, 1023)).hasMessageContaining("byteRateLimit burst");
        assertThatThrownBy(() -> builder.maxRateLimitRefusals(0)).hasMessageContaining("maxRateLimitRefusals");
        assertThatThrownBy(() -> builder.ticker(null)).hasMessageContaining("ticker");
        assertThatThrownBy(() -> builder.tls(null)).hasMessageContaining("tls");
        io.netty.channel.DefaultEventLoopGroup local = new io.netty.channel.DefaultEventLoopGroup(1);
        try {
            assertThatThrownBy(() -> builder.eventLoopGroup(local)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("eventLoopGroup").hasMessageContaining("DefaultEventLoopGroup");
        } finally {
            local.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void aByteBurstSmallerThanTheLargestFrameIsRefusedAtStart() {
        assertThatThrownBy(() -> Gateway.builder(one.node())
                .login((credentials, remote) -> CompletableFuture.completedFuture("x")).tcp(0)
                .maxFrameBytes(128 * 1024).byteRateLimit(64 * 1024, 64 * 1024).start())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("byteRateLimit burst")
                .hasMessageContaining("maxFrameBytes");
    }

    @Test
    void startNeedsALoginHookAndAFrontEnd() {
        assertThatThrownBy(() -> Gateway.builder(one.node()).tcp(0).start()).hasMessageContaining("login");
        assertThatThrownBy(() -> Gateway.builder(one.node())
                .login((credentials, remote) -> CompletableFuture.completedFuture("x")).start())
                .hasMessageContaining("front end");
    }

    @Test
    void aSecondGatewayOnOneNodeIsRefused() {
        assertThatThrownBy(() -> Gateway.builder(one.node())
                .login((credentials, remote) -> CompletableFuture.completedFuture("x")).tcp(0).start())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already run one");
    }

    @Test
    void aBuilderChangedAfterStartChangesNothingInTheRunningGateway() {
        AtomicReference<Gateway.Builder> used = new AtomicReference<>();
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> {
            used.set(builder);
            return builder;
        });
        used.get().routes(RouteTable.none())
                .login((credentials, remote) -> CompletableFuture.failedFuture(
                        new BraidException(Code.UNAUTHENTICATED, "the changed builder's hook")))
                .maxFrameBytes(16);

        try (TestClient client = TestClient.tcp(two.tcp())) {
            assertThat(client.login("player:after-start").hasLoginOk()).as("the hook given at start still logs in").isTrue();
            var reply = client.call("logic.player.act", "a payload longer than sixteen bytes");
            assertThat(reply.getCode()).as("the route table and frame limit given at start still hold, reply " + reply)
                    .isEqualTo(Code.OK.value());
        }
    }

    @Test
    void aGatewayOnTheNodesEventLoopsServesThereAndLeavesThemRunningWhenItCloses() throws Exception {
        AtomicReference<Thread> loginThread = new AtomicReference<>();
        GatewayFixture.GatewayNode shared = cluster.gateway("gateway-2", builder -> builder.nodeEventLoops()
                .login((credentials, remote) -> {
                    loginThread.set(Thread.currentThread());
                    return GatewayFixture.login(credentials);
                }));
        try (TestClient client = TestClient.tcp(shared.tcp())) {
            assertThat(client.login("player:shared").hasLoginOk()).isTrue();
            assertThat(client.call("logic.player.act", "hop").getCode()).isEqualTo(Code.OK.value());
        }
        assertThat(onLoopsOf(shared, loginThread.get())).as("the login ran on one of the node's loops").isTrue();

        AtomicReference<Thread> ownThread = new AtomicReference<>();
        GatewayFixture.GatewayNode own = cluster.gateway("gateway-3", builder -> builder
                .login((credentials, remote) -> {
                    ownThread.set(Thread.currentThread());
                    return GatewayFixture.login(credentials);
                }));
        try (TestClient client = TestClient.tcp(own.tcp())) {
            assertThat(client.login("player:own").hasLoginOk()).isTrue();
        }
        assertThat(onLoopsOf(own, ownThread.get())).as("by default the gateway has loops of its own").isFalse();

        shared.gateway().close();
        assertThat(shared.node().eventLoopGroup().isShuttingDown()).as("the node's loops outlive the gateway").isFalse();
        assertThat(shared.node().invoke("logic", "player.act", "player:after", "x".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .get(10, java.util.concurrent.TimeUnit.SECONDS)).as("the node still calls out").isNotEmpty();
    }

    private static boolean onLoopsOf(GatewayFixture.GatewayNode gateway, Thread thread) {
        return StreamSupport.stream(gateway.node().eventLoopGroup().spliterator(), false)
                .anyMatch(loop -> loop.inEventLoop(thread));
    }
}
