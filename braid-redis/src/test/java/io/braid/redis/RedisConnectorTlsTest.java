package io.braid.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** rediss:// with the server's CA works; every way of getting TLS wrong fails at connect, saying what is wrong. */
class RedisConnectorTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @RegisterExtension
    static final RedisExtension tlsRedis = RedisExtension.single(RedisServer.builder().tls());

    @RegisterExtension
    static final RedisExtension plainRedis = RedisExtension.single();

    private static String tlsUri() {
        return tlsRedis.server().uri();
    }

    @Test
    void aClientTrustingTheServersAuthorityTalksOverTls() throws Exception {
        assertThat(tlsUri()).startsWith("rediss://");
        try (RedisConnector redis = RedisConnector.connect(tlsUri(), TIMEOUT,
                RedisTls.trusting(tlsRedis.server().caCertificate()))) {
            redis.async().set("braid:tls", "yes").get(2, TimeUnit.SECONDS);
            assertThat(redis.async().get("braid:tls").get(2, TimeUnit.SECONDS)).isEqualTo("yes");
            assertThat(redis.description()).contains("127.0.0.1:" + tlsRedis.server().port());
        }
    }

    @Test
    void aClientThatDoesNotTrustTheServersAuthorityFailsAtConnectSayingSo() throws Exception {
        try (RedisServer stranger = RedisServer.builder().tls().start()) {
            Path wrongAuthority = stranger.caCertificate();
            assertThatThrownBy(() -> RedisConnector.connect(tlsUri(), TIMEOUT, RedisTls.trusting(wrongAuthority)))
                    .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                    .hasMessageContaining("127.0.0.1:" + tlsRedis.server().port())
                    .hasMessageContaining("TLS handshake failed")
                    .hasMessageContaining("not signed by an authority this client trusts");
        }
        // No RedisTls at all: the JVM's trust store knows nothing of a test authority either.
        assertThatThrownBy(() -> RedisConnector.connect(tlsUri(), TIMEOUT))
                .isInstanceOf(BraidException.class)
                .hasMessageContaining("give its CA with RedisTls.trusting(caPem)");
    }

    @Test
    void aPlainClientAtATlsOnlyPortFailsAtConnectPointingAtRediss() {
        String plainUri = "redis://127.0.0.1:" + tlsRedis.server().port();
        assertThatThrownBy(() -> RedisConnector.connect(plainUri, TIMEOUT))
                .satisfies(e -> System.out.println("plain client at a TLS port sees: " + e.getMessage()))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                .hasMessageContaining("127.0.0.1:" + tlsRedis.server().port())
                .hasMessageContaining("use rediss://");
    }

    @Test
    void aTlsClientAtAPlainPortFailsAtConnectPointingAtRedis() {
        String tlsAtPlain = "rediss://127.0.0.1:" + plainRedis.server().port();
        assertThatThrownBy(() -> RedisConnector.connect(tlsAtPlain, TIMEOUT,
                RedisTls.trusting(tlsRedis.server().caCertificate())))
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                .hasMessageContaining("a plain port needs redis://");
    }

    @Test
    void tlsSettingsForAPlainUriOrAMissingFileAreRefusedAtOnce() {
        RedisTls tls = RedisTls.trusting(tlsRedis.server().caCertificate());
        assertThatThrownBy(() -> RedisConnector.connect(plainRedis.server().uri(), TIMEOUT, tls))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("need a rediss:// URI");
        assertThatThrownBy(() -> RedisTls.trusting(Path.of("/nonexistent/ca.pem")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("caCertificatePem must be a readable PEM file");
    }
}
