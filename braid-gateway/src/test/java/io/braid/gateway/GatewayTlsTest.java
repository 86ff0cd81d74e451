package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Code;
import io.braid.gateway.proto.Reply;
import io.braid.rpc.TestCertificates;
import io.braid.testkit.Await;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TLS on both front ends, with certificates made for the test: a client that speaks TLS (and
 * checks the gateway's certificate against 127.0.0.1) logs in and calls over TCP and over wss; a
 * client that speaks plain text to a TLS port is closed without an answer and leaves no connection
 * behind, while a TLS player goes on playing.
 */
class GatewayTlsTest {
    private static final TestCertificates.Authority CA = TestCertificates.newAuthority("gateway CA");
    private static final TestCertificates.Identity SERVER = CA.issueServer("gateway");

    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final GatewayFixture.GatewayNode gateway = cluster.gateway("gateway-1",
            builder -> builder.tls(TestCertificates.serverContext(SERVER, CA, ClientAuth.NONE)));

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    /** A JDK TLS context trusting the gateway's certificate (a player's client ships it, or its CA). */
    private static SSLContext trustingTheGateway() throws GeneralSecurityException, java.io.IOException {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("gateway", SERVER.certificate());
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    private static void playsOver(TestClient client, String player) {
        assertThat(client.login("player:" + player).hasLoginOk()).as(player + " logs in").isTrue();
        Reply reply = client.call("logic.player.act", "jump");
        assertThat(reply.getCode()).as(reply.toString()).isEqualTo(Code.OK.value());
        assertThat(TestClient.utf8(reply.getPayload())).isEqualTo("acted:player:" + player + ":jump");
    }

    @Test
    void aTlsClientLogsInAndCallsOverTcp() throws Exception {
        try (TestClient client = TestClient.tcp(gateway.tcp(), trustingTheGateway())) {
            playsOver(client, "tcp-tls");
        }
    }

    @Test
    void aTlsClientLogsInAndCallsOverWssInBinaryAndText() throws Exception {
        try (TestClient binary = TestClient.webSocket(gateway.ws(), false, trustingTheGateway());
             TestClient text = TestClient.webSocket(gateway.ws(), true, trustingTheGateway())) {
            playsOver(binary, "wss-binary");
            playsOver(text, "wss-text");
        }
    }

    @Test
    void aPlainTextTcpClientOnTheTlsPortIsClosedAndLeavesNothingBehind() throws Exception {
        try (TestClient player = TestClient.tcp(gateway.tcp(), trustingTheGateway())) {
            playsOver(player, "bystander");
            for (int i = 0; i < 5; i++) {
                try (TestClient plain = TestClient.tcp(gateway.tcp())) {
                    plain.send(io.braid.gateway.proto.ClientFrame.newBuilder().setLogin(io.braid.gateway.proto.Login
                            .newBuilder().setCredentials(com.google.protobuf.ByteString.copyFromUtf8("player:plain")))
                            .build());
                    plain.awaitClosed();
                    assertThat(plain.received).as("nothing a plain-text client could read").isEmpty();
                }
            }
            Await.until(Duration.ofSeconds(5), () -> "only the TLS player's connection left; open: "
                    + gateway.gateway().connectionCount(), () -> gateway.gateway().connectionCount() == 1);
            assertThat(cluster.boundTo("player:plain")).as("the plain client never logged in").isNull();
            Reply reply = player.call("logic.player.act", "still");
            assertThat(reply.getCode()).isEqualTo(Code.OK.value());
        }
    }

    @Test
    void aPlainWebSocketClientOnTheTlsPortFailsItsHandshakeAndLeavesNothingBehind() throws Exception {
        assertThatThrownBy(() -> TestClient.webSocket(gateway.ws(), false)).as("ws:// to a wss port");
        Await.until(Duration.ofSeconds(5), () -> "no connection left; open: " + gateway.gateway().connectionCount(),
                () -> gateway.gateway().connectionCount() == 0);
        try (TestClient client = TestClient.webSocket(gateway.ws(), false, trustingTheGateway())) {
            playsOver(client, "after-plain");
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateCannotConnect() {
        TestCertificates.Authority stranger = TestCertificates.newAuthority("stranger CA");
        TestCertificates.Identity other = stranger.issueServer("not the gateway");
        assertThatThrownBy(() -> {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("other", other.certificate());
            TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            TestClient.tcp(gateway.tcp(), context).close();
        }).hasStackTraceContaining("SSLHandshakeException");
        Await.until(Duration.ofSeconds(5), () -> "no connection left; open: " + gateway.gateway().connectionCount(),
                () -> gateway.gateway().connectionCount() == 0);
    }

    @Test
    void aGatewayRequiringClientCertificatesServesOnlyClientsThatPresentOne() throws Exception {
        GatewayFixture.GatewayNode mutual = cluster.gateway("gateway-2",
                builder -> builder.tls(TestCertificates.serverContext(SERVER, CA, ClientAuth.REQUIRE)));
        TestCertificates.Identity player = CA.issueClient("player device");
        KeyStore own = KeyStore.getInstance("PKCS12");
        own.load(null, null);
        own.setKeyEntry("player", player.key(), new char[0], new java.security.cert.Certificate[] {player.certificate()});
        javax.net.ssl.KeyManagerFactory keys = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        keys.init(own, new char[0]);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("gateway", SERVER.certificate());
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(trusted);
        SSLContext withCertificate = SSLContext.getInstance("TLS");
        withCertificate.init(keys.getKeyManagers(), trust.getTrustManagers(), null);

        try (TestClient client = TestClient.tcp(mutual.tcp(), withCertificate)) {
            playsOver(client, "with-certificate");
        }
        // TLS 1.3: the client's handshake ends before the server checks its (missing) certificate,
        // so the refusal shows as the connection closing without a frame.
        try (TestClient client = TestClient.tcp(mutual.tcp(), trustingTheGateway())) {
            client.send(io.braid.gateway.proto.ClientFrame.newBuilder().setLogin(io.braid.gateway.proto.Login
                    .newBuilder().setCredentials(com.google.protobuf.ByteString.copyFromUtf8("player:anonymous")))
                    .build());
            client.awaitClosed();
            assertThat(client.received).isEmpty();
        } catch (IllegalStateException refusedInTheHandshake) {
            assertThat(refusedInTheHandshake).hasStackTraceContaining("SSL");
        }
        assertThat(cluster.boundTo("player:anonymous")).isNull();
        Await.until(Duration.ofSeconds(5), () -> "no connection left; open: " + mutual.gateway().connectionCount(),
                () -> mutual.gateway().connectionCount() == 0);
    }

    @Test
    void tlsNeedsAServerContext() {
        SslContext client = TestCertificates.clientContext(CA, null);
        assertThatThrownBy(() -> Gateway.builder(gateway.node()).tls(client))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tls").hasMessageContaining("server");
    }
}
