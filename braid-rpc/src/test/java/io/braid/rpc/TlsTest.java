package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.await;
import static io.braid.rpc.ErrorPathTest.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.rpc.TestCertificates.Authority;
import io.braid.rpc.TestCertificates.Identity;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TLS and mutual TLS between real servers and clients on loopback, with certificates made at test
 * time. Every refused client fails with UNAVAILABLE, its call never reaches a handler, and the
 * server goes on serving a good client and closes the refused connection.
 */
class TlsTest {
    private static final Authority CA = TestCertificates.newAuthority("braid test CA");
    private static final Authority OTHER_CA = TestCertificates.newAuthority("unrelated CA");
    private static final Identity SERVER = CA.issueServer("braid test server");
    private static final Identity CLIENT = CA.issueClient("braid test client");

    private static final String GOOD_CLIENT = "good-client";
    private static final String REFUSED_CLIENT = "refused-client";
    /** Short enough that a refused client fails fast, long enough for a handshake on a busy machine. */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

    private final TestCluster cluster = new TestCluster();
    /** Set if a call from {@link #REFUSED_CLIENT} ever reaches the handler. */
    private final AtomicBoolean refusedClientServed = new AtomicBoolean();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    @Test
    void tlsRoundTrip() throws Exception {
        RpcServer server = echoServer(TestCertificates.serverContext(SERVER, CA, ClientAuth.NONE));

        // The first call reaches its connection while it is still connecting: nothing done then
        // (a flush, say) may cost the handshake.
        assertServesGoodClient(server, TestCertificates.clientContext(CA, null));
    }

    @Test
    void mutualTlsRoundTrip() throws Exception {
        RpcServer server = echoServer(TestCertificates.serverContext(SERVER, CA, ClientAuth.REQUIRE));

        assertServesGoodClient(server, TestCertificates.clientContext(CA, CLIENT));
    }

    @Test
    void clientWithoutCertificateIsRefusedByMutualTls() throws Exception {
        RpcServer server = echoServer(TestCertificates.serverContext(SERVER, CA, ClientAuth.REQUIRE));

        // With TLS 1.3 the client finishes its side of the handshake before the server has looked at
        // the (missing) certificate, so this client writes its request; the server fails the
        // handshake, never decrypts the request, and closes. The client sees the connection lost.
        assertRefused(b -> b.tls(TestCertificates.clientContext(CA, null)));
        assertServesGoodClient(server, TestCertificates.clientContext(CA, CLIENT));
    }

    @Test
    void clientCertificateFromAnotherAuthorityIsRefusedByMutualTls() throws Exception {
        RpcServer server = echoServer(TestCertificates.serverContext(SERVER, CA, ClientAuth.REQUIRE));
        Identity stranger = OTHER_CA.issueClient("stranger");

        // As above, TLS 1.3: the server refuses the certificate after the client thinks it is done.
        assertRefused(b -> b.tls(TestCertificates.clientContext(CA, stranger)));
        assertServesGoodClient(server, TestCertificates.clientContext(CA, CLIENT));
    }

    @Test
    void clientThatTrustsAnotherAuthorityRefusesTheServer() throws Exception {
        RpcServer server = echoServer(TestCertificates.serverContext(SERVER, CA, ClientAuth.NONE));

        assertRefused(b -> b.tls(TestCertificates.clientContext(OTHER_CA, null)));
        assertServesGoodClient(server, TestCertificates.clientContext(CA, null));
    }

    @Test
    void serverCertificateForAnotherNameIsRefusedByAClientThatChecksNames() throws Exception {
        // Signed by the trusted authority, but not for 127.0.0.1. Only refused because the test's
        // client context turns on endpoint identification; Netty 4.1 leaves it off by default.
        Identity elsewhere = CA.issueServerFor("elsewhere.example");
        RpcServer server = echoServer(TestCertificates.serverContext(elsewhere, CA, ClientAuth.NONE));

        assertRefused(b -> b.tls(TestCertificates.clientContext(CA, null)));
        await(() -> server.connectionCount() == 0);
    }

    @Test
    void plaintextClientAgainstTlsServerIsUnavailable() throws Exception {
        RpcServer server = echoServer(TestCertificates.serverContext(SERVER, CA, ClientAuth.NONE));

        // The server can tell: every request frame starts with a 4-byte length whose first byte is 0
        // (as for any frame under 16 MiB) followed by the envelope tag 0x0a. That is neither a TLS
        // record type (20..23) nor an SSLv2 hello (version byte 2 or 3 at that position), so the
        // server's SslHandler raises NotSslRecordException on the first frame and closes the
        // connection. The client therefore fails with UNAVAILABLE (connection lost) at once, not
        // with DEADLINE_EXCEEDED after the timeout; codeOf would see the latter if the server waited.
        long start = System.nanoTime();
        assertRefused(UnaryOperator.identity());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(CALL_TIMEOUT);
        assertServesGoodClient(server, TestCertificates.clientContext(CA, null));
    }

    @Test
    void tlsClientAgainstPlaintextServerIsUnavailable() throws Exception {
        // The ClientHello's record header reads as a frame of ~370 MB whose first bytes are no call:
        // the server's frame decoder calls it corrupt and closes the connection.
        RpcServer server = echoServer(null);

        assertRefused(b -> b.tls(TestCertificates.clientContext(CA, null)));
        RpcClient plain = cluster.client(b -> b.nodeId(GOOD_CLIENT));
        assertThat(plain.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("plain"), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("plain");
        await(() -> server.connectionCount() == 1);
    }

    private RpcServer echoServer(SslContext tls) {
        return cluster.server(b -> tls == null ? b : b.tls(tls), s -> s.handle("echo", StringValue.parser(), (ctx, req) -> {
            if (REFUSED_CLIENT.equals(ctx.caller())) {
                refusedClientServed.set(true);
            }
            return req;
        }));
    }

    /** A client with {@code settings} calls once: UNAVAILABLE, and its call never reached the handler. */
    private void assertRefused(UnaryOperator<RpcClient.Builder> settings) {
        RpcClient refused = cluster.client(b -> settings.apply(b.nodeId(REFUSED_CLIENT)
                .connectTimeout(Duration.ofSeconds(2)).defaultTimeout(CALL_TIMEOUT)));

        CompletableFuture<StringValue> call = refused.invoke(TestCluster.SERVICE, "echo", "",
                StringValue.of("let me in"), StringValue.parser(), CallOptions.DEFAULT.withTimeout(CALL_TIMEOUT));

        assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
        assertThat(refusedClientServed).as("the refused client's call reached a handler").isFalse();
    }

    /**
     * A good client's call is served, the refused client's call never was, and the server holds
     * only the good client's connection (it closed any refused one).
     */
    private void assertServesGoodClient(RpcServer server, SslContext tls) throws Exception {
        RpcClient good = cluster.client(b -> b.tls(tls).nodeId(GOOD_CLIENT)
                .connectTimeout(Duration.ofSeconds(2)).defaultTimeout(CALL_TIMEOUT));

        StringValue reply = good.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("hello over tls"),
                StringValue.parser()).get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);

        assertThat(reply.getValue()).isEqualTo("hello over tls");
        assertThat(refusedClientServed).as("a refused client's call reached a handler").isFalse();
        await(() -> server.connectionCount() == 1);
    }
}
