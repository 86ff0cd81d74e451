package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Codec;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.rpc.TestCertificates.Authority;
import io.braid.rpc.internal.Codecs;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.StaticDiscover;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.ssl.ClientAuth;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A builder is a recipe: once {@code build()} (and, for the server, {@code start()}) has run, changing
 * the builder — with every setter it has — changes nothing in what was built. Each setter below is
 * set to a value that would break the assertions if the built object still read the builder.
 */
class BuilderAfterBuildTest {
    private static final Authority CA = TestCertificates.newAuthority("braid builder test CA");
    /** A handler that answers after this long, without blocking any thread. */
    private static final long SLOW_MILLIS = 300;

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private static void slowAndCallerHandlers(RpcServer server) {
        server.handleAsync("slow", StringValue.parser(), (ctx, req) -> CompletableFuture.supplyAsync(() -> req,
                CompletableFuture.delayedExecutor(SLOW_MILLIS, TimeUnit.MILLISECONDS)));
        server.handle("caller", StringValue.parser(), (ctx, req) -> StringValue.of(ctx.caller()));
        server.handle("size", BytesValue.parser(), (ctx, req) -> StringValue.of(String.valueOf(req.getValue().size())));
    }

    @Test
    void aClientIgnoresEverySetterOfItsBuilderOnceBuilt() throws Exception {
        RpcServer server = cluster.server(BuilderAfterBuildTest::slowAndCallerHandlers);
        RpcClient.Builder builder = RpcClient.builder().discover(cluster.discover).nodeId("first").ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2));
        RpcClient client = cluster.track(builder.build());
        EventLoopGroup lent = new NioEventLoopGroup(1);
        try {
            builder.discover(new StaticDiscover())
                    .linkCache(new RefusingLinkCache())
                    .intercept((call, next) -> CompletableFuture.failedFuture(
                            new BraidException(Code.UNAUTHENTICATED, "the builder's later interceptor ran")))
                    .codec(new UpperCaseCodec())
                    .propagateDeadlines(false)
                    .nodeId("second")
                    .defaultTimeout(Duration.ofMillis(50))
                    .connectTimeout(Duration.ofMillis(1))
                    .pingInterval(Duration.ofMillis(1))
                    .keepAliveTimeout(Duration.ofMillis(2))
                    .shutdownGrace(Duration.ZERO)
                    .connectionsPerPeer(8)
                    .maxFrameBytes(1024)
                    .maxAttempts(1)
                    .ejection(1, Duration.ofMillis(1), Duration.ofMillis(1))
                    .ioThreads(4)
                    .eventLoopGroup(lent)
                    .tls(TestCertificates.clientContext(CA, null));

            // defaultTimeout is still 10 s, the discover and the (absent) link cache are the first ones,
            // no interceptor was added, and no TLS.
            CompletableFuture<StringValue> slow = client.invoke(TestCluster.SERVICE, "slow", "player-1",
                    StringValue.of("x"), StringValue.parser());
            assertThat(slow.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("x");
            // nodeId is still "first".
            assertThat(client.invoke(TestCluster.SERVICE, "caller", "", StringValue.of(""), StringValue.parser())
                    .get(10, TimeUnit.SECONDS).getValue()).isEqualTo("first");
            // maxFrameBytes is still 4 MiB.
            BytesValue big = BytesValue.of(ByteString.copyFrom(new byte[4096]));
            assertThat(client.invoke(TestCluster.SERVICE, "size", "", big, StringValue.parser())
                    .get(10, TimeUnit.SECONDS).getValue()).isEqualTo("4096");
            // The codec added later is unknown to the client.
            assertThat(codeOf(client.invoke(TestCluster.SERVICE, "caller", "", StringValue.of(""),
                    StringValue.parser(), CallOptions.DEFAULT.withContentType(UpperCaseCodec.TYPE))))
                    .isEqualTo(Code.INVALID_ARGUMENT);
            // connectionsPerPeer is still 1: every call went over one connection.
            for (int i = 0; i < 4; i++) {
                client.invoke(TestCluster.SERVICE, "caller", "", StringValue.of(""), StringValue.parser())
                        .get(10, TimeUnit.SECONDS);
            }
            assertThat(server.connectionCount()).isEqualTo(1);
        } finally {
            lent.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aServerIgnoresEverySetterOfItsBuilderOnceBuiltAndStarted() throws Exception {
        RpcServer.Builder builder = RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2));
        RpcServer server = cluster.track(builder.build());
        slowAndCallerHandlers(server);
        EventLoopGroup lent = new NioEventLoopGroup(1);
        try {
            // What start() reads, changed between build() and start().
            builder.host("127.0.0.2")
                    .port(1)
                    .intercept((call, next) -> {
                        throw new BraidException(Code.UNAUTHENTICATED, "the builder's later interceptor ran");
                    })
                    .codec(new UpperCaseCodec())
                    .tokenGate(() -> false)
                    .fenceCheckInterval(Duration.ofMillis(1))
                    .nodeId("changed-after-build")
                    .maxLaneDepth(1)
                    .maxInFlightPerConnection(1)
                    .maxDeadline(Duration.ofMillis(10))
                    .maxConnections(1)
                    .shutdownGrace(Duration.ZERO)
                    .ioThreads(4)
                    .eventLoopGroup(lent)
                    .blockingExecutor(task -> {
                        throw new IllegalStateException("the builder's later executor ran");
                    })
                    .tls(TestCertificates.serverContext(CA.issueServer("localhost"), CA, ClientAuth.NONE));
            server.start();
            // What each new connection reads, changed after start() and before the first connection.
            builder.maxFrameBytes(1024).idleTimeout(Duration.ofMillis(1)).frameReadTimeout(Duration.ofMillis(1));
            assertThat(server.port()).isNotEqualTo(1);
            assertThat(server.nodeId()).isNotEqualTo("changed-after-build");
            assertThat(server.options().maxLaneDepth()).isEqualTo(RpcServer.Builder.DEFAULT_MAX_LANE_DEPTH);
            assertThat(server.host()).isEqualTo("127.0.0.1");
            cluster.discover.register(Node.of("node-1", TestCluster.SERVICE, "127.0.0.1", server.port(), 100));
            RpcClient client = cluster.client();
            RpcClient second = cluster.client();

            // No interceptor, no token gate, no TLS; maxDeadline is still a minute and idleTimeout 2 min.
            CompletableFuture<StringValue> slow = client.invoke(TestCluster.SERVICE, "slow", "player-1",
                    StringValue.of("x"), StringValue.parser());
            // maxInFlightPerConnection is still 65,536 and the blocking executor is the first one.
            CompletableFuture<StringValue> alongside = client.invoke(TestCluster.SERVICE, "caller", "player-1",
                    StringValue.of(""), StringValue.parser());
            assertThat(slow.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("x");
            assertThat(alongside.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("test-client");
            // maxFrameBytes is still 4 MiB.
            BytesValue big = BytesValue.of(ByteString.copyFrom(new byte[4096]));
            assertThat(client.invoke(TestCluster.SERVICE, "size", "", big, StringValue.parser())
                    .get(10, TimeUnit.SECONDS).getValue()).isEqualTo("4096");
            // maxConnections is still 10,000: a second client is served too.
            assertThat(second.invoke(TestCluster.SERVICE, "caller", "", StringValue.of(""), StringValue.parser())
                    .get(10, TimeUnit.SECONDS).getValue()).isEqualTo("test-client");
            assertThat(server.rejectedConnectionCount()).isZero();
            // The codec added later is unknown to the server (the client knows it from its own build).
            RpcClient upper = cluster.client(b -> b.codec(new UpperCaseCodec()));
            assertThat(codeOf(upper.invoke(TestCluster.SERVICE, "caller", "", StringValue.of(""),
                    StringValue.parser(), CallOptions.DEFAULT.withContentType(UpperCaseCodec.TYPE))))
                    .isEqualTo(Code.INVALID_ARGUMENT);
        } finally {
            lent.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void newBuilderStartsFromAClientsSettingsAndChangesNothingInIt() throws Exception {
        cluster.server(BuilderAfterBuildTest::slowAndCallerHandlers);
        RpcClient impatient = cluster.client(b -> b.nodeId("first").defaultTimeout(Duration.ofMillis(50)));
        RpcClient.Builder derivedSettings = impatient.newBuilder();
        RpcClient patient = cluster.track(derivedSettings.defaultTimeout(Duration.ofSeconds(10)).build());
        derivedSettings.nodeId("changed-after-build");

        // The derived client has the first one's settings but its own timeout...
        assertThat(patient.invoke(TestCluster.SERVICE, "slow", "", StringValue.of("x"), StringValue.parser())
                .get(10, TimeUnit.SECONDS).getValue()).isEqualTo("x");
        assertThat(patient.invoke(TestCluster.SERVICE, "caller", "", StringValue.of(""), StringValue.parser())
                .get(10, TimeUnit.SECONDS).getValue()).isEqualTo("first");
        // ...and the first one keeps its 50 ms.
        assertThat(codeOf(impatient.invoke(TestCluster.SERVICE, "slow", "", StringValue.of("x"), StringValue.parser())))
                .isEqualTo(Code.DEADLINE_EXCEEDED);
    }

    @Test
    void newBuilderStartsFromAServersSettings() {
        RpcServer server = cluster.track(RpcServer.builder().host("127.0.0.1").maxFrameBytes(2048)
                .idleTimeout(Duration.ofSeconds(7)).tokenGate(() -> true).codec(new UpperCaseCodec()).build());

        RpcServer.Builder derived = server.newBuilder();
        assertThat(cluster.track(derived.build()).options()).isEqualTo(server.options());
        derived.maxFrameBytes(4096);
        assertThat(cluster.track(derived.build()).options().maxFrameBytes()).isEqualTo(4096);
        assertThat(server.options().maxFrameBytes()).isEqualTo(2048);
    }

    /** A codec of its own content type (protobuf bytes under another name). */
    private static final class UpperCaseCodec implements Codec {
        static final String TYPE = "application/x-builder-test";

        @Override
        public String contentType() {
            return TYPE;
        }

        @Override
        public ByteString encode(Object value) throws Exception {
            return Codecs.protobuf().encode(value);
        }

        @Override
        public <T> T decode(ByteString bytes, com.google.protobuf.Parser<T> parser) throws Exception {
            return Codecs.protobuf().decode(bytes, parser);
        }
    }

    /** A link cache that fails every step: a client that used it would fail every token call. */
    private static final class RefusingLinkCache implements LinkCache {
        private static <T> CompletableFuture<T> refused() {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "the builder's later link cache ran"));
        }

        @Override
        public CompletableFuture<Optional<String>> targetAsync(String token, String service) {
            return refused();
        }

        @Override
        public CompletableFuture<String> linkAsync(String token, Node candidate) {
            return refused();
        }

        @Override
        public CompletableFuture<Optional<Link>> linkOfAsync(String token, String service) {
            return refused();
        }

        @Override
        public CompletableFuture<Link> claimAsync(String token, Node candidate) {
            return refused();
        }

        @Override
        public CompletableFuture<Link> relinkAsync(String token, Node node) {
            return refused();
        }

        @Override
        public CompletableFuture<Optional<Link>> moveAsync(String token, Link expected, Node to) {
            return refused();
        }

        @Override
        public CompletableFuture<Integer> unlinkAsync(String token) {
            return refused();
        }

        @Override
        public CompletableFuture<Boolean> unlinkAsync(String token, Node owner) {
            return refused();
        }

        @Override
        public CompletableFuture<Long> downAsync(Node node) {
            return refused();
        }

        @Override
        public CompletableFuture<Long> linkCountAsync(String nodeId) {
            return refused();
        }

        @Override
        public void close() {
        }
    }
}
