package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RedisProbeTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private RedisProbe probe;

    @BeforeEach
    void connect() {
        probe = redis.server().probe();
        probe.command("FLUSHALL");
    }

    @AfterEach
    void disconnect() {
        probe.close();
    }

    @Test
    void repliesAreTypedByKind() {
        assertThat(probe.command("SET", "k", "v")).isEqualTo("OK");                    // simple string
        assertThat(probe.command("GET", "k")).isEqualTo("v");                          // bulk string
        assertThat(probe.command("GET", "missing")).isNull();                           // null bulk
        assertThat(probe.command("INCR", "n")).isEqualTo(1L);                           // integer
        assertThat(probe.command("RPUSH", "l", "a", "", "c")).isEqualTo(3L);
        assertThat(probe.command("LRANGE", "l", "0", "-1")).isEqualTo(List.of("a", "", "c")); // array
        assertThat(probe.command("LRANGE", "missing", "0", "-1")).isEqualTo(List.of());
        assertThat(probe.command("BLPOP", "missing", "0.01")).isNull();                 // null array
        assertThat(probe.command("EVAL", "return {1, 'two', {3, false}}", "0"))
                .isEqualTo(List.of(1L, "two", Arrays.asList(3L, null)));      // nested
    }

    @Test
    void textTravelsAsUtf8() {
        probe.command("SET", "名前", "žluťoučký kůň 🐎");
        assertThat(probe.command("GET", "名前")).isEqualTo("žluťoučký kůň 🐎");
        assertThat(probe.command("STRLEN", "名前")).isEqualTo((long) "žluťoučký kůň 🐎".getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void errorRepliesAreThrownAndTheConnectionStaysUsable() {
        probe.command("SET", "k", "v");

        assertThatThrownBy(() -> probe.command("LPUSH", "k", "x"))
                .isInstanceOfSatisfying(RedisProbe.ErrorReply.class, e -> {
                    assertThat(e.prefix()).isEqualTo("WRONGTYPE");
                    assertThat(e.getMessage()).startsWith("WRONGTYPE Operation against a key");
                });
        assertThatThrownBy(() -> probe.command("NOSUCHCOMMAND"))
                .isInstanceOfSatisfying(RedisProbe.ErrorReply.class, e -> assertThat(e.prefix()).isEqualTo("ERR"));

        assertThat(probe.command("GET", "k")).isEqualTo("v");
    }

    @Test
    void errorsInsideArraysAreElements() {
        probe.command("SET", "k", "v");
        probe.command("MULTI");
        probe.command("INCR", "k");
        probe.command("GET", "k");

        List<?> results = (List<?>) probe.command("EXEC");

        assertThat(results).hasSize(2);
        assertThat(results.get(0)).isInstanceOf(RedisProbe.ErrorReply.class);
        assertThat(results.get(1)).isEqualTo("v");
    }

    @Test
    void commandCallsCountsEachCommand() {
        probe.command("CONFIG", "RESETSTAT");
        probe.command("SET", "a", "1");
        probe.command("SET", "b", "2");
        probe.command("GET", "a");
        probe.command("CLIENT", "SETNAME", "probe");

        Map<String, Long> calls = probe.commandCalls();

        assertThat(calls).containsEntry("set", 2L).containsEntry("get", 1L).containsEntry("client|setname", 1L);
        assertThat(calls).doesNotContainKey("del");
    }

    @Test
    void infoReturnsTheSection() {
        String info = probe.info("replication");
        assertThat(info).startsWith("# Replication").contains("role:master");
    }

    @Test
    void pingIsFalseWhenNothingListensAndCommandsThrow() {
        int port = LoopbackPorts.pick();
        try (RedisProbe nowhere = new RedisProbe("127.0.0.1", port, null)) {
            assertThat(nowhere.ping()).isFalse();
            assertThatThrownBy(() -> nowhere.command("PING"))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("127.0.0.1:" + port);
        }
    }

    @Test
    void wrongPasswordFailsWithTheServersError() {
        try (RedisServer locked = RedisServer.builder().password("right").start();
                RedisProbe wrong = new RedisProbe(locked.host(), locked.port(), "wrong")) {
            assertThat(wrong.ping()).isFalse();
            assertThatThrownBy(() -> wrong.command("PING"))
                    .isInstanceOfSatisfying(RedisProbe.ErrorReply.class,
                            e -> assertThat(e.prefix()).isEqualTo("WRONGPASS"));
        }
    }

    @Test
    void closedProbeRefusesCommands() {
        probe.close();
        probe.close();
        assertThatThrownBy(() -> probe.command("PING")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(probe::ping).isInstanceOf(IllegalStateException.class);
    }
}
