package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Redis with a password and with an ACL user: nodes that know them work, others fail at start, clearly. */
class RedisAuthTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single(RedisServer.builder().password("s3cret"));

    private static String port() {
        return Integer.toString(redis.server().port());
    }

    private static void twoNodesWork(String uri) throws Exception {
        try (Braid logic = Braid.builder().service("logic").ioThreads(1).redis(uri)
                     .handle("hello", StringValue.parser(), (ctx, req) -> StringValue.of("hi " + req.getValue())).start();
             Braid gateway = Braid.builder().service("gateway").ioThreads(1).redis(uri).start()) {
            Await.until(Duration.ofSeconds(5), "gateway sees logic", () -> !gateway.discover().nodes("logic").isEmpty());
            assertThat(gateway.invoke("logic", "hello", "player-1", StringValue.of("ann"), StringValue.parser())
                    .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("hi ann");
            assertThat(logic.topic("chat.world").publish(new byte[] {1}).get(5, TimeUnit.SECONDS)).isNotBlank();
        }
    }

    @Test
    void nodesWithThePasswordWork() throws Exception {
        twoNodesWork(redis.server().uri());
    }

    @Test
    void aWrongPasswordFailsAtStartNamingTheServer() {
        assertThatThrownBy(() -> Braid.builder().service("logic").ioThreads(1)
                .redis("redis://:wrong@127.0.0.1:" + port()).start())
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                .hasMessageContaining("127.0.0.1:" + port());
    }

    @Test
    void anAclUserWithBraidsKeysWorksAndOneWithoutThemFailsAtStart() throws Exception {
        try (RedisProbe probe = redis.server().probe()) {
            // braid's keys all start with "braid:"; its channels too.
            probe.command("ACL", "SETUSER", "game", "reset", "on", ">game-pass", "~braid:*", "&braid:*", "+@all");
            probe.command("ACL", "SETUSER", "nosy", "reset", "on", ">nosy-pass", "~other:*", "&braid:*", "+@all");
        }

        twoNodesWork("redis://game:game-pass@127.0.0.1:" + port());
        assertThatThrownBy(() -> Braid.builder().service("logic").ioThreads(1)
                .redis("redis://nosy:nosy-pass@127.0.0.1:" + port()).start())
                .isInstanceOf(BraidException.class)
                .hasMessageContaining("NOPERM");
    }
}
