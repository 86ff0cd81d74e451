package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.rpc.TestCertificates;
import io.braid.testkit.Await;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The client's settings are checked at once with messages naming them; close() leaves no thread and
 * no connection; calls outside a session fail clearly; TLS works against a TLS gateway.
 */
class GatewayClientBuilderTest {
    private static final InetSocketAddress SOMEWHERE = new InetSocketAddress("127.0.0.1", 9);
    private static final byte[] CREDENTIALS = "player:zed".getBytes(StandardCharsets.UTF_8);

    @Test
    void badSettingsAreRefusedAtOnceNamingTheSetting() {
        GatewayClient.Builder builder = GatewayClient.builder();
        assertThatThrownBy(() -> builder.addresses(List.of())).hasMessageContaining("addresses");
        assertThatThrownBy(() -> builder.addresses(List.of(new InetSocketAddress("127.0.0.1", 0))))
                .hasMessageContaining("no port");
        assertThatThrownBy(() -> builder.addresses(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> builder.credentials(new byte[0])).hasMessageContaining("credentials");
        assertThatThrownBy(() -> builder.pingEvery(Duration.ZERO)).hasMessageContaining("pingEvery");
        assertThatThrownBy(() -> builder.pingEvery(Duration.ofMillis(5))).hasMessageContaining("pingEvery");
        assertThatThrownBy(() -> builder.connectTimeout(Duration.ofSeconds(-1))).hasMessageContaining("connectTimeout");
        assertThatThrownBy(() -> builder.callTimeout(Duration.ZERO)).hasMessageContaining("callTimeout");
        assertThatThrownBy(() -> builder.reconnect(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ZERO))
                .hasMessageContaining("reconnect max");
        assertThatThrownBy(() -> builder.reconnect(Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO))
                .hasMessageContaining("reconnect min");
        assertThatThrownBy(() -> builder.reconnect(Duration.ofMillis(1), Duration.ofSeconds(1), Duration.ofSeconds(-1)))
                .hasMessageContaining("giveUpAfter");
        assertThatThrownBy(() -> builder.webSocketPath("ws")).hasMessageContaining("webSocketPath");
        assertThatThrownBy(() -> builder.maxFrameBytes(0)).hasMessageContaining("maxFrameBytes");
        assertThatThrownBy(() -> builder.maxFrameBytes(17 * 1024 * 1024)).hasMessageContaining("maxFrameBytes");
        DefaultEventLoopGroup notNio = new DefaultEventLoopGroup(1);
        try {
            assertThatThrownBy(() -> builder.eventLoopGroup(notNio)).hasMessageContaining("NioEventLoopGroup");
        } finally {
            notNio.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        TestCertificates.Authority authority = TestCertificates.newAuthority("client test CA");
        assertThatThrownBy(() -> builder.tls(TestCertificates.serverContext(authority.issueServer("gw"), authority,
                ClientAuth.NONE))).hasMessageContaining("client SslContext");
        assertThatThrownBy(builder::build).hasMessageContaining("addresses are required");
        builder.addresses(List.of(SOMEWHERE));
        assertThatThrownBy(builder::build).hasMessageContaining("credentials are required");
    }

    @Test
    void callsOutsideASessionFailClearlyAndCloseIsIdempotent() {
        GatewayClient client = GatewayClient.builder().addresses(List.of(SOMEWHERE)).credentials(CREDENTIALS).build();
        CompletableFuture<byte[]> early = client.call("logic.player.act", new byte[0]);
        assertThatThrownBy(early::join).hasMessageContaining("before connect()");
        assertThat(BraidException.from(catchFailure(early)).code()).isEqualTo(Code.FAILED_PRECONDITION);
        assertThatThrownBy(() -> client.call(" ", new byte[0])).hasMessageContaining("route");
        client.close();
        client.close();
        CompletableFuture<byte[]> late = client.call("logic.player.act", new byte[0]);
        assertThat(BraidException.from(catchFailure(late)).code()).isEqualTo(Code.FAILED_PRECONDITION);
        assertThat(BraidException.from(catchFailure(client.connect())).code()).isEqualTo(Code.FAILED_PRECONDITION);
    }

    private static Throwable catchFailure(CompletableFuture<?> future) {
        try {
            future.join();
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("expected a failure");
    }

    private static long clientThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("braid-gateway-client-") && thread.isAlive()).count();
    }

    @Test
    void closeLeavesNoThreadsAndNoConnectionsAndABorrowedGroupRunsOn() throws Exception {
        try (GatewayFixture cluster = GatewayFixture.inMemory()) {
            GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
            long before = clientThreads();
            List<GatewayClient> clients = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                GatewayClient client = GatewayClient.builder().addresses(List.of(i % 2 == 0 ? one.tcp() : one.ws()))
                        .transport(i % 2 == 0 ? Transport.TCP : Transport.WEBSOCKET)
                        .credentials(("player:own" + i).getBytes(StandardCharsets.UTF_8)).build();
                clients.add(client);
                client.connect().join();
            }
            assertThat(clientThreads()).isEqualTo(before + 3);
            NioEventLoopGroup shared = new NioEventLoopGroup(2);
            try {
                List<GatewayClient> borrowing = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    GatewayClient client = GatewayClient.builder().addresses(List.of(one.ws()))
                            .transport(Transport.WEBSOCKET).eventLoopGroup(shared)
                            .credentials(("player:bot" + i).getBytes(StandardCharsets.UTF_8)).build();
                    borrowing.add(client);
                    client.connect().join();
                }
                Await.until(Duration.ofSeconds(10), "7 connections", () -> one.gateway().connectionCount() == 7);
                for (GatewayClient client : clients) {
                    client.close();
                }
                for (GatewayClient client : borrowing) {
                    client.close();
                }
                assertThat(clientThreads()).isEqualTo(before);
                assertThat(shared.isShuttingDown()).as("a borrowed group is not shut down").isFalse();
                Await.until(Duration.ofSeconds(10), () -> "no connection left; " + one.gateway().connectionCount(),
                        () -> one.gateway().connectionCount() == 0);
            } finally {
                shared.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }

    @Test
    void aTlsClientLogsInAndCallsOverTcpAndWss() throws Exception {
        TestCertificates.Authority authority = TestCertificates.newAuthority("gateway client CA");
        try (GatewayFixture cluster = GatewayFixture.inMemory()) {
            GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.tls(
                    TestCertificates.serverContext(authority.issueServer("gateway"), authority, ClientAuth.NONE)));
            for (Transport transport : Transport.values()) {
                try (GatewayClient client = GatewayClient.builder()
                        .addresses(List.of(transport == Transport.TCP ? one.tcp() : one.ws()))
                        .transport(transport).tls(TestCertificates.clientContext(authority, null))
                        .credentials(("player:tls-" + transport).getBytes(StandardCharsets.UTF_8)).build()) {
                    client.connect().join();
                    assertThat(new String(client.call("logic.player.act", "x".getBytes(StandardCharsets.UTF_8))
                            .join(), StandardCharsets.UTF_8)).isEqualTo("acted:player:tls-" + transport + ":x");
                }
            }
            // A client that trusts another authority never gets in: its connect gives up UNAVAILABLE.
            TestCertificates.Authority stranger = TestCertificates.newAuthority("stranger CA");
            try (GatewayClient client = GatewayClient.builder().addresses(List.of(one.tcp()))
                    .tls(TestCertificates.clientContext(stranger, null))
                    .reconnect(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(300))
                    .credentials(CREDENTIALS).build()) {
                Throwable failure = catchFailure(client.connect());
                assertThat(BraidException.from(failure).code()).isEqualTo(Code.UNAVAILABLE);
            }
        }
    }
}
