package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The examples of braid-testkit/README.md, kept here so that they compile and pass. */
class ReadmeExamplesTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Test
    void usesTheClassServer() {
        String uri = redis.server().uri();              // redis://127.0.0.1:PORT for the code under test
        try (RedisProbe probe = redis.server().probe()) {
            probe.command("SET", "greeting", "hi");
            assertThat(probe.command("GET", "greeting")).isEqualTo("hi");
            assertThat(probe.commandCalls()).containsEntry("get", 1L);
        }
        assertThat(uri).startsWith("redis://127.0.0.1:");
    }

    @Test
    void survivesACrash() {
        try (RedisServer server = RedisServer.builder().appendOnly(true).start();
                RedisProbe probe = server.probe()) {
            probe.command("SET", "player:42", "online");

            server.kill();                              // SIGKILL
            assertThat(probe.ping()).isFalse();
            server.restart();                           // same port, same data dir
            assertThat(probe.command("GET", "player:42")).isEqualTo("online");

            server.pause();                             // SIGSTOP: connections hang
            assertThat(probe.ping()).isFalse();
            server.resume();                            // SIGCONT
            assertThat(probe.ping()).isTrue();
        }
    }
}
