package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.Push;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisServer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway's death with the session records on one real redis-server (append-only, so a killed
 * and restarted Redis keeps what it acknowledged): the scenarios of {@link GatewayDeath}, and Redis
 * itself killed while a player is pushed to.
 */
class RedisGatewayDeathTest extends GatewayDeathContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single(RedisServer.builder().appendOnly(true));

    RedisGatewayDeathTest() {
        super(200, 5, REDIS_STORM);
    }

    @Override
    GatewayFixture start() {
        redis.server().flushAll();
        return GatewayFixture.onRedis(redis.server().uri());
    }

    /**
     * Redis killed while pushing: the pushes fail UNAVAILABLE and the player never sees them (no
     * seq is used up); once Redis is back, the next push is numbered right after the last one the
     * player saw, and a resume on the other gateway works.
     */
    @Test
    void redisKilledWhilePushingFailsThePushesAndThePlayerNeverSeesThem() throws Exception {
        GatewayFixture.GatewayNode one = GatewayDeath.gateway(cluster, "gateway-1", GatewayDeath.GRACE);
        GatewayFixture.GatewayNode two = GatewayDeath.gateway(cluster, "gateway-2", GatewayDeath.GRACE);
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:ray").getLoginOk();
        for (long i = 1; i <= 3; i++) {
            assertThat(GatewayDeath.pushUntilTaken(cluster, "player:ray", "p" + i)).isEqualTo(i);
        }
        Await.until(TestClient.WAIT, "3 pushes", () -> first.pushes().size() == 3);

        redis.server().kill();
        for (int i = 0; i < 3; i++) {
            try {
                long seq = cluster.pusher().push("player:ray", "lost".getBytes(StandardCharsets.UTF_8))
                        .get(30, TimeUnit.SECONDS);
                throw new AssertionError("a push was accepted as " + seq + " with Redis dead");
            } catch (ExecutionException e) {
                assertThat(BraidException.from(e.getCause()).code()).as("%s", e.getCause())
                        .isEqualTo(Code.UNAVAILABLE);
            }
        }
        // A failed push is never written: the writes follow successful appends only.
        assertThat(first.pushes()).hasSize(3);

        redis.server().restart();
        long next = GatewayDeath.pushUntilTaken(cluster, "player:ray", "p4");
        assertThat(next).as("no seq used up by the failed pushes").isEqualTo(4L);
        first.await(frame -> frame.hasPush() && frame.getPush().getPushSeq() == 4, "push 4");
        assertThat(first.pushes()).extracting(push -> TestClient.utf8(push.getPayload()))
                .containsExactly("p1", "p2", "p3", "p4");

        first.close();
        Await.until(TestClient.WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);
        // The other gateway's Redis connection may still be coming back: it answers UNAVAILABLE
        // ("ask again") until then, and a client asks again, as GatewayClient does.
        TestClient[] resumedOn = new TestClient[1];
        Await.until(TestClient.WAIT, "a resume on the other gateway once its Redis connection is back", () -> {
            TestClient attempt = TestClient.tcp(two.tcp());
            ServerFrame answer = attempt.resume(login.getResumeToken(), 4);
            if (answer.hasResumed()) {
                resumedOn[0] = attempt;
                return true;
            }
            attempt.close();
            assertThat(answer.hasError() && answer.getError().getCode() == Code.UNAVAILABLE.value())
                    .as("only UNAVAILABLE may refuse it meanwhile: %s", answer).isTrue();
            return false;
        });
        try (TestClient second = resumedOn[0]) {
            assertThat(GatewayDeath.pushUntilTaken(cluster, "player:ray", "p5")).isEqualTo(5L);
            second.await(ServerFrame::hasPush, "push 5");
            assertThat(second.pushes()).extracting(Push::getPushSeq).containsExactly(5L);
        }
    }
}
