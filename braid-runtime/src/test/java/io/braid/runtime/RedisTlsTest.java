package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.redis.RedisTls;
import io.braid.linkcache.internal.LinkKeys;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Redis over TLS only: nodes that trust its CA do everything; others fail at start and say why. */
class RedisTlsTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single(RedisServer.builder().tls().password("s3cret"));

    private static String where() {
        return "127.0.0.1:" + redis.server().port();
    }

    private static RedisTls trusted() {
        return RedisTls.trusting(redis.server().caCertificate());
    }

    @Test
    void nodesOnRedissRegisterElectLinkAndPublish() throws Exception {
        String uri = redis.server().uri();
        assertThat(uri).startsWith("rediss://");
        List<String> heard = new CopyOnWriteArrayList<>();
        try (Braid logic = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1).redis(uri).redisTls(trusted())
                     .handle("hello", StringValue.parser(), (ctx, req) -> StringValue.of("hi " + req.getValue()))
                     .subscribe("chat.world", "logic", (message) -> heard.add(new String(message.body())))
                     .start();
             Braid gateway = Braid.builder().service("gateway").ioThreads(1).redis(uri).redisTls(trusted()).start()) {
            Await.until(Duration.ofSeconds(5), "gateway sees logic", () -> !gateway.discover().nodes("logic").isEmpty());
            Await.until(Duration.ofSeconds(5), "logic-1 leads its service", logic.elector()::isLeader);

            assertThat(gateway.invoke("logic", "hello", "player-1", StringValue.of("ann"), StringValue.parser())
                    .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("hi ann");
            assertThat(gateway.linkCache().target("player-1", "logic")).contains("logic-1");
            assertThat(gateway.topic("chat.world").publish("gg".getBytes()).get(5, TimeUnit.SECONDS)).isNotBlank();
            Await.until(Duration.ofSeconds(5), "logic hears the message", () -> heard.contains("gg"));
            try (RedisProbe probe = redis.server().probe()) {
                // What the nodes did went through the TLS port: the link is in Redis.
                String link = (String) probe.command("HGET", LinkKeys.DEFAULTS.bucketKey("player-1"),
                        LinkKeys.field("player-1", "logic"));
                assertThat(link).startsWith("logic-1" + LinkKeys.SEPARATOR);
            }
        }
    }

    @Test
    void aNodeThatDoesNotTrustTheServersCaFailsAtStartSayingSo() throws Exception {
        try (RedisServer stranger = RedisServer.builder().tls().start()) {
            assertThatThrownBy(() -> Braid.builder().service("logic").ioThreads(1).redis(redis.server().uri())
                    .redisTls(RedisTls.trusting(stranger.caCertificate())).start())
                    .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                    .hasMessageContaining(where())
                    .hasMessageContaining("TLS handshake failed")
                    .hasMessageContaining("give its CA with RedisTls.trusting(caPem)");
        }
    }

    @Test
    void aPlainRedisUriAtTheTlsOnlyPortFailsAtStartPointingAtRediss() {
        assertThatThrownBy(() -> Braid.builder().service("logic").ioThreads(1)
                .redis("redis://:s3cret@" + where()).start())
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                .hasMessageContaining(where())
                .hasMessageContaining("use rediss://");
    }

    @Test
    void tlsSettingsWithoutARedisUriAreRefused() {
        assertThatThrownBy(() -> Braid.builder().service("logic").inMemory("tls-test").redisTls(trusted()).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("redisTls applies to redis(uri) and redisCluster(uris) only");
    }
}
