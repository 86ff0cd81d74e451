package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class RedisServerTlsTest {

    @Test
    void aTlsServerAnswersOverTlsOnlyAndHandsOutItsAuthority() throws Exception {
        try (RedisServer server = RedisServer.builder().tls().password("pw").start();
                RedisProbe probe = server.probe();
                RedisProbe plain = new RedisProbe(server.host(), server.port(), "pw")) {
            assertThat(server.isTls()).isTrue();
            assertThat(server.uri()).isEqualTo("rediss://:pw@127.0.0.1:" + server.port());
            assertThat(Files.readString(server.caCertificate())).startsWith("-----BEGIN CERTIFICATE-----");

            probe.command("SET", "k", "v");
            assertThat(probe.command("GET", "k")).isEqualTo("v");
            assertThat(probe.command("CONFIG", "GET", "port")).isEqualTo(java.util.List.of("port", "0"));
            assertThat(plain.ping()).as("a plain connection to the TLS port").isFalse();

            server.kill();
            server.restartEmpty(); // the certificates survive; the data does not
            assertThat(probe.ping()).isTrue();
            assertThat(probe.command("GET", "k")).isNull();
        }
    }

    @Test
    void aPlainServerHasNoAuthority() {
        try (RedisServer server = RedisServer.start()) {
            assertThat(server.isTls()).isFalse();
            assertThatThrownBy(server::caCertificate)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("does not speak TLS");
        }
    }

    @Test
    void extraArgsMayNotTakeOverTheTlsSettings() {
        assertThatThrownBy(() -> RedisServer.builder().extraArgs("--tls-port", "6380"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--tls-port");
    }
}
