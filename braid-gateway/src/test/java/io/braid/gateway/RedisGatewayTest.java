package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.CallOptions;
import io.braid.gateway.proto.Reply;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gateway on one real redis-server: links in Redis with near caches kept by invalidations,
 * session events through Redis Streams. Login, call, push, and duplicate logins raced across
 * two gateways. Pushes asked again with their id, shown once ({@link PushRetry}), also after an
 * answer lost while Redis stalled.
 */
class RedisGatewayTest {
    /** Rounds of the race; {@code -Dgateway.races=1000} for a longer run. */
    static final int RACES = Integer.getInteger("gateway.races", 100);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private GatewayFixture cluster;

    @BeforeEach
    void start() {
        redis.server().flushAll();
        cluster = GatewayFixture.onRedis(redis.server().uri());
    }

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @Test
    void loginCallPushAndADuplicateLoginOnAnotherGateway() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2");
        try (TestClient first = TestClient.webSocket(one.ws(), false); TestClient second = TestClient.tcp(two.tcp())) {
            assertThat(first.login("player:ann").hasLoginOk()).isTrue();
            Reply reply = first.call("logic.player.act", "jump");
            assertThat(TestClient.utf8(reply.getPayload())).isEqualTo("acted:player:ann:jump");
            assertThat(cluster.pusher().push("player:ann", "one".getBytes()).join()).isEqualTo(1L);

            assertThat(second.login("player:ann").hasLoginOk()).isTrue();
            first.await(ServerFrame::hasKicked, "the first session kicked");
            first.awaitClosed();
            Await.until(TestClient.WAIT, "the link to name gateway-2", () -> "gateway-2".equals(cluster.boundTo("player:ann")));
            // The logic node's near cache learns of the move by invalidation; until then a push may be refused.
            List<Long> seqs = new ArrayList<>();
            Await.until(TestClient.WAIT, "a push to reach gateway-2", () -> {
                seqs.add(cluster.pusher().push("player:ann", "two".getBytes()).join());
                return true;
            });
            for (int i = 2; i <= 20; i++) {
                seqs.add(cluster.pusher().push("player:ann", ("p" + i).getBytes()).join());
            }
            assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());
            Await.until(TestClient.WAIT, "20 pushes on the second session", () -> second.pushes().size() == 20);
        }
        Await.until(TestClient.WAIT, "the binding to go", () -> cluster.boundTo("player:ann") == null);
    }

    @Test
    void onePlayerLoggingInOnAlternateGatewaysIsBoundOnlyToTheLatest() {
        GatewayFixture.GatewayNode[] gateways = {cluster.gateway("gateway-1"), cluster.gateway("gateway-2")};
        List<TestClient> clients = new ArrayList<>();
        try {
            for (int login = 0; login < 6; login++) {
                GatewayFixture.GatewayNode here = gateways[login % 2];
                TestClient client = login % 2 == 0 ? TestClient.tcp(here.tcp()) : TestClient.webSocket(here.ws(), false);
                clients.add(client);
                assertThat(client.login("player:bob").hasLoginOk()).as("login %d", login).isTrue();
                if (login > 0) {
                    TestClient previous = clients.get(login - 1);
                    previous.await(ServerFrame::hasKicked, "login " + (login - 1) + " kicked");
                    previous.awaitClosed();
                }
                Await.until(TestClient.WAIT, "the link to name " + here.id(),
                        () -> here.id().equals(cluster.boundTo("player:bob")));
                assertThat(client.call("logic.player.act", "move " + login).getCode()).isZero();
                assertThat(gateways[0].gateway().sessionCount() + gateways[1].gateway().sessionCount()).isEqualTo(1);
            }
            assertThat(cluster.eventsOf("player:bob")).extracting(SessionEvent::type).containsExactly(
                    SessionEvent.Type.BOUND, SessionEvent.Type.KICKED, SessionEvent.Type.BOUND, SessionEvent.Type.KICKED,
                    SessionEvent.Type.BOUND, SessionEvent.Type.KICKED, SessionEvent.Type.BOUND, SessionEvent.Type.KICKED,
                    SessionEvent.Type.BOUND, SessionEvent.Type.KICKED, SessionEvent.Type.BOUND);
        } finally {
            clients.forEach(TestClient::close);
        }
    }

    @Test
    void aSessionDroppedOnOneGatewayResumesOnTheOtherWithExactlyTheMissedPushes() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(Duration.ofSeconds(20)));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(Duration.ofSeconds(20)));
        TestClient first = TestClient.tcp(one.tcp());
        String resumeToken = first.login("player:eve").getLoginOk().getResumeToken();
        List<Long> seqs = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            seqs.add(cluster.pusher().push("player:eve", ("p" + i).getBytes()).join());
        }
        Await.until(TestClient.WAIT, "3 pushes", () -> first.pushes().size() == 3);
        first.close();
        Await.until(TestClient.WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);
        for (int i = 4; i <= 6; i++) {
            seqs.add(cluster.pusher().push("player:eve", ("p" + i).getBytes()).join());
        }
        try (TestClient second = TestClient.webSocket(two.ws(), false)) {
            assertThat(second.resume(resumeToken, 3).hasResumed()).isTrue();
            Await.until(TestClient.WAIT, "the link to name gateway-2", () -> "gateway-2".equals(cluster.boundTo("player:eve")));
            // The logic node's near cache learns of the move by invalidation; until then a push may be refused.
            Await.until(TestClient.WAIT, "a push to reach gateway-2", () -> {
                try {
                    seqs.add(cluster.pusher().push("player:eve", "p7".getBytes()).join());
                    return true;
                } catch (RuntimeException e) {
                    return false;
                }
            });
            Await.until(TestClient.WAIT, "4 pushes on the resumed session", () -> second.pushes().size() == 4);
            assertThat(second.pushes()).extracting(push -> push.getPushSeq()).containsExactly(4L, 5L, 6L, 7L);
            assertThat(second.pushes()).extracting(push -> TestClient.utf8(push.getPayload()))
                    .containsExactly("p4", "p5", "p6", "p7");
            assertThat(seqs).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
            assertThat(cluster.eventsOf("player:eve")).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
        }
    }

    @Test
    void aPushAskedAgainWithItsIdIsShownOnceAndAnswersOneSeqAlsoAcrossAResume() {
        PushRetry.run(cluster, cluster.gateway("gateway-1", b -> b.resumeGrace(PushRetry.GRACE)),
                cluster.gateway("gateway-2", b -> b.resumeGrace(PushRetry.GRACE)), "player:dee");
    }

    /**
     * The pusher's answer is lost for real: Redis stalls (SIGSTOP) under the gateway's append, the
     * pusher's deadline passes, then Redis goes on and the append lands. The pusher asks again with
     * the push's id: the answer is the seq the first call got, and the player sees the push once.
     */
    @Test
    void aPushWhoseAnswerWasLostWhileRedisStalledIsShownOnceWhenAskedAgainWithItsId() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", b -> b.resumeGrace(PushRetry.GRACE));
        try (TestClient player = TestClient.tcp(one.tcp())) {
            player.login("player:fay");
            GatewayPush pusher = cluster.pusher();
            assertThat(pusher.push("player:fay", "hello", "hello".getBytes()).join()).isEqualTo(1L);
            GatewayPush impatient = pusher.withOptions(CallOptions.DEFAULT.withTimeout(Duration.ofMillis(300)));
            CompletableFuture<Long> lost;
            redis.server().pause();
            try {
                lost = impatient.push("player:fay", "gift-7", "gift".getBytes());
                Await.until(TestClient.WAIT, "the first call to give up", lost::isDone);
            } finally {
                redis.server().resume();
            }
            assertThat(lost).as("the answer was lost").isCompletedExceptionally();
            List<Long> retried = new ArrayList<>();
            Await.until(TestClient.WAIT, "the retry to be answered", () -> {
                retried.add(pusher.push("player:fay", "gift-7", "gift".getBytes()).join());
                return true;
            });
            assertThat(retried).as("the seq the lost answer carried").containsExactly(2L);
            assertThat(pusher.push("player:fay", "after", "after".getBytes()).join()).isEqualTo(3L);
            Await.until(TestClient.WAIT, "push 3", () -> player.pushes().size() >= 3);
            assertThat(player.pushes()).extracting(push -> push.getPushSeq() + ":" + TestClient.utf8(push.getPayload()))
                    .containsExactly("1:hello", "2:gift", "3:after");
        }
    }

    @Test
    void twoLoginsOfOneTokenRacedOnTwoGatewaysLeaveExactlyOneBound() throws Exception {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2");
        int firstWon = DuplicateLoginRace.run(cluster, one, two, "redis-race", RACES);
        System.out.printf("duplicate-login race (redis): %d rounds, gateway-1 won %d, gateway-2 won %d%n", RACES,
                firstWon, RACES - firstWon);
    }
}
