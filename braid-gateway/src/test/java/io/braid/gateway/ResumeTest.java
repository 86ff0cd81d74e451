package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.Push;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Resume: a session whose connection dropped stays DETACHED for the grace, buffering pushes; a
 * Resume with its token and the last push seen, on the same or another gateway, gets exactly the
 * missed pushes and the sequence goes on; logic nodes see RESUMED, never CLOSED, for it.
 */
class ResumeTest {
    static final Duration LONG_GRACE = Duration.ofSeconds(20);

    private final GatewayFixture cluster = GatewayFixture.inMemory();

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    private GatewayFixture.GatewayNode gateway(String id, Duration grace) {
        return cluster.gateway(id, builder -> builder.resumeGrace(grace));
    }

    /** Pushes payloads "p<from>".."p<to>"; asserts their sequence numbers are from..to. */
    private void push(String token, long from, long to) {
        for (long i = from; i <= to; i++) {
            long seq = pushWhenReachable(token, "p" + i);
            assertThat(seq).as("push %d", i).isEqualTo(i);
        }
    }

    /** One push, asked again while the binding is moving (UNAVAILABLE: the near cache is behind). */
    private long pushWhenReachable(String token, String payload) {
        AtomicReference<Long> seq = new AtomicReference<>();
        Await.until(TestClient.WAIT, "a push to " + token + " to be taken", () -> {
            try {
                seq.set(cluster.pusher().push(token, payload.getBytes(StandardCharsets.UTF_8)).join());
                return true;
            } catch (RuntimeException e) {
                if (BraidException.from(e).code() == Code.UNAVAILABLE) {
                    return false;
                }
                throw e;
            }
        });
        return seq.get();
    }

    private static void assertPushes(List<Push> pushes, long from, long to) {
        assertThat(pushes).extracting(Push::getPushSeq)
                .containsExactlyElementsOf(LongStream.rangeClosed(from, to).boxed().toList());
        assertThat(pushes).extracting(push -> TestClient.utf8(push.getPayload()))
                .containsExactlyElementsOf(LongStream.rangeClosed(from, to).mapToObj(i -> "p" + i).toList());
    }

    private static void awaitDetached(GatewayFixture.GatewayNode node) {
        Await.until(TestClient.WAIT, "the session to detach", () -> node.gateway().sessionCount() == 0);
    }

    @Test
    void aDropAndAResumeOnTheSameGatewayGetExactlyTheMissedPushesAndTheSequenceGoesOn() {
        GatewayFixture.GatewayNode one = gateway("gateway-1", LONG_GRACE);
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:ann").getLoginOk();
        assertThat(login.getResumeToken()).isNotBlank().doesNotContain(login.getToken());
        push("player:ann", 1, 5);
        Await.until(TestClient.WAIT, "5 pushes", () -> first.pushes().size() == 5);
        first.close();
        awaitDetached(one);
        push("player:ann", 6, 10); // accepted: buffered for the grace
        try (TestClient second = TestClient.webSocket(one.ws(), false)) {
            // The client saw 1..3 only (say 4 and 5 were in flight): it gets 4..10, once each, in order.
            ServerFrame resumed = second.resume(login.getResumeToken(), 3);
            assertThat(resumed.hasResumed()).as("%s", resumed).isTrue();
            assertThat(resumed.getResumed().getSessionId()).isEqualTo(login.getSessionId());
            assertThat(resumed.getResumed().getReplayed()).isEqualTo(7);
            assertThat(resumed.getResumed().getResumeToken()).isNotEqualTo(login.getResumeToken());
            Await.until(TestClient.WAIT, "the replay", () -> second.pushes().size() == 7);
            push("player:ann", 11, 12);
            Await.until(TestClient.WAIT, "the new pushes", () -> second.pushes().size() == 9);
            assertPushes(second.pushes(), 4, 12);
            assertThat(second.call("logic.player.act", "on").getCode()).isZero();
            assertThat(cluster.boundTo("player:ann")).isEqualTo("gateway-1");
            assertThat(cluster.eventsOf("player:ann")).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
        }
    }

    /**
     * The gateway holding a detached session dies while another gateway node is starting: its node
     * is registered, its gateway's methods are not yet. A resume's claim, routed by the token whose
     * owner is gone, is linked to the starting node and refused there ("no method"). That refusal is
     * no answer about the session: the claim is asked again, and the resume succeeds (the demo's
     * gateway restart met this: one player logged in afresh).
     */
    @Test
    void aResumeWhoseClaimReachesAGatewayNodeNotYetServingResumes() {
        GatewayFixture.GatewayNode one = gateway("gateway-1", LONG_GRACE);
        GatewayFixture.GatewayNode two = gateway("gateway-2", LONG_GRACE);
        two.node().weight(0); // takes no new links: a token whose owner died is linked to gateway-3
        cluster.bareGatewayNode("gateway-3");
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:eve").getLoginOk();
        push("player:eve", 1, 2);
        Await.until(TestClient.WAIT, "2 pushes", () -> first.pushes().size() == 2);
        first.close();
        awaitDetached(one);
        cluster.crash(one);

        try (TestClient second = TestClient.tcp(two.tcp())) {
            ServerFrame resumed = second.resume(login.getResumeToken(), 1);
            assertThat(resumed.hasResumed()).as("%s", resumed).isTrue();
            assertThat(resumed.getResumed().getSessionId()).isEqualTo(login.getSessionId());
            Await.until(TestClient.WAIT, "the replay of push 2", () -> second.pushes().size() == 1);
            assertThat(second.pushes().getFirst().getPushSeq()).isEqualTo(2);
            assertThat(cluster.boundTo("player:eve")).isEqualTo("gateway-2");
        }
    }

    @Test
    void aResumeOnAnotherGatewayMovesTheBindingAndThePushesFollow() {
        GatewayFixture.GatewayNode one = gateway("gateway-1", LONG_GRACE);
        GatewayFixture.GatewayNode two = gateway("gateway-2", LONG_GRACE);
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:bob").getLoginOk();
        push("player:bob", 1, 3);
        Await.until(TestClient.WAIT, "3 pushes", () -> first.pushes().size() == 3);
        first.close();
        awaitDetached(one);
        push("player:bob", 4, 6);
        try (TestClient second = TestClient.tcp(two.tcp())) {
            ServerFrame resumed = second.resume(login.getResumeToken(), 3);
            assertThat(resumed.hasResumed()).as("%s", resumed).isTrue();
            Await.until(TestClient.WAIT, "the replay", () -> second.pushes().size() == 3);
            assertThat(cluster.boundTo("player:bob")).isEqualTo("gateway-2");
            assertThat(one.gateway().sessionCount()).isZero();
            assertThat(two.gateway().sessionCount()).isEqualTo(1);
            push("player:bob", 7, 9);
            Await.until(TestClient.WAIT, "the new pushes", () -> second.pushes().size() == 6);
            assertPushes(second.pushes(), 4, 9);
            assertThat(second.call("logic.player.act", "moved").getCode()).isZero();
            assertThat(cluster.eventsOf("player:bob")).extracting(SessionEvent::type, SessionEvent::gatewayNode)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, "gateway-1"),
                            org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.RESUMED, "gateway-2"));
            // And it can move again: a drop on gateway-2 and a resume on gateway-1, with the new resume token.
            second.close();
            awaitDetached(two);
            push("player:bob", 10, 10);
            try (TestClient third = TestClient.tcp(one.tcp())) {
                assertThat(third.resume(resumed.getResumed().getResumeToken(), 9).hasResumed()).isTrue();
                Await.until(TestClient.WAIT, "the replay", () -> third.pushes().size() == 1);
                assertPushes(third.pushes(), 10, 10);
                assertThat(cluster.boundTo("player:bob")).isEqualTo("gateway-1");
            }
        }
    }

    @Test
    void pushesStreamingThroughADropAndAResumeOnAnotherGatewayAreNeitherLostNorDuplicated() throws Exception {
        GatewayFixture.GatewayNode one = gateway("gateway-1", LONG_GRACE);
        GatewayFixture.GatewayNode two = gateway("gateway-2", LONG_GRACE);
        int total = 300;
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:gil").getLoginOk();
        List<Long> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread pusher = Thread.ofVirtual().start(() -> {
            for (int i = 1; i <= total; i++) {
                accepted.add(pushWhenReachable("player:gil", "p" + i));
            }
        });
        Await.until(TestClient.WAIT, "some pushes on the first connection", () -> first.pushes().size() >= 50);
        first.close(); // dropped mid-stream; the gateway may not have noticed yet when the resume comes
        first.awaitClosed();
        List<Push> seenFirst = first.pushes();
        long lastSeen = seenFirst.get(seenFirst.size() - 1).getPushSeq();
        try (TestClient second = TestClient.tcp(two.tcp())) {
            ServerFrame resumed = second.resume(login.getResumeToken(), lastSeen);
            assertThat(resumed.hasResumed()).as("%s", resumed).isTrue();
            pusher.join(TestClient.WAIT.toMillis());
            assertThat(accepted).containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
            Await.until(TestClient.WAIT, () -> "all pushes after " + lastSeen + "; got " + second.pushes().size(),
                    () -> second.pushes().size() == total - lastSeen);
            assertPushes(seenFirst, 1, lastSeen);
            assertPushes(second.pushes(), lastSeen + 1, total);
            assertThat(cluster.eventsOf("player:gil")).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
            System.out.printf("streaming resume: %d pushes, dropped after %d, resumed on gateway-2%n", total, lastSeen);
        }
    }

    @Test
    void whenTheGraceEndsTheSessionClosesOnceAndAResumeIsRefusedButAFreshLoginWorks() {
        GatewayFixture.GatewayNode one = gateway("gateway-1", Duration.ofMillis(200));
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:cy").getLoginOk();
        first.close();
        Await.until(TestClient.WAIT, "the CLOSED event", () -> cluster.eventsOf("player:cy").size() == 2);
        Await.until(TestClient.WAIT, "the binding to go", () -> cluster.boundTo("player:cy") == null);
        assertThat(cluster.eventsOf("player:cy")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
        try (TestClient late = TestClient.tcp(one.tcp())) {
            ServerFrame refused = late.resume(login.getResumeToken(), 0);
            assertThat(refused.hasError()).as("%s", refused).isTrue();
            assertThat(refused.getError().getCode()).isEqualTo(Code.NOT_FOUND.value());
            assertThat(refused.getError().getMessage()).contains("log in afresh");
            late.awaitClosed();
        }
        try (TestClient fresh = TestClient.tcp(one.tcp())) {
            assertThat(fresh.login("player:cy").hasLoginOk()).isTrue();
            assertThat(pushWhenReachable("player:cy", "p1")).isEqualTo(1L);
        }
        assertThat(cluster.eventsOf("player:cy")).extracting(SessionEvent::type).startsWith(
                SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED, SessionEvent.Type.BOUND);
    }

    @Test
    void aLogoutEndsTheSessionAtOnceWithoutAGraceAndItCannotBeResumed() {
        GatewayFixture.GatewayNode one = gateway("gateway-1", LONG_GRACE);
        try (TestClient player = TestClient.tcp(one.tcp())) {
            LoginOk login = player.login("player:fay").getLoginOk();
            player.logout();
            player.awaitClosed();
            Await.until(TestClient.WAIT, "the binding to go", () -> cluster.boundTo("player:fay") == null);
            assertThat(cluster.eventsOf("player:fay")).extracting(SessionEvent::type, SessionEvent::reason)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, ""),
                            org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.CLOSED, "logged out"));
            try (TestClient again = TestClient.tcp(one.tcp())) {
                assertThat(again.resume(login.getResumeToken(), 0).getError().getCode())
                        .isEqualTo(Code.NOT_FOUND.value());
            }
        }
    }

    @Test
    void aWrongOrMalformedResumeTokenIsRefusedAndTheSessionStaysResumable() {
        GatewayFixture.GatewayNode one = gateway("gateway-1", LONG_GRACE);
        GatewayFixture.GatewayNode two = gateway("gateway-2", LONG_GRACE);
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:dee").getLoginOk();
        first.close();
        awaitDetached(one);
        String token = login.getResumeToken();
        String forged = token.substring(0, token.length() - 4) + "AAAA";
        for (GatewayFixture.GatewayNode node : List.of(one, two)) {
            try (TestClient thief = TestClient.tcp(node.tcp())) {
                ServerFrame refused = thief.resume(forged, 0);
                assertThat(refused.getError().getCode()).as("%s on %s", refused, node.id())
                        .isEqualTo(Code.UNAUTHENTICATED.value());
                thief.awaitClosed();
            }
        }
        try (TestClient garbage = TestClient.tcp(one.tcp())) {
            assertThat(garbage.resume("not-a-token", 0).getError().getCode()).isEqualTo(Code.UNAUTHENTICATED.value());
        }
        try (TestClient owner = TestClient.tcp(two.tcp())) {
            assertThat(owner.resume(token, 0).hasResumed()).isTrue();
        }
    }

    @Test
    void aResumeNeedingPushesBeyondTheReplayBoundIsRefusedAndTheSessionCloses() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1",
                builder -> builder.resumeGrace(LONG_GRACE).replayMaxPushes(5));
        TestClient ann = TestClient.tcp(one.tcp());
        TestClient bob = TestClient.tcp(one.tcp());
        LoginOk annLogin = ann.login("player:ann").getLoginOk();
        LoginOk bobLogin = bob.login("player:bob").getLoginOk();
        ann.close();
        bob.close();
        Await.until(TestClient.WAIT, "both to detach", () -> one.gateway().sessionCount() == 0);
        push("player:ann", 1, 10);
        push("player:bob", 1, 10);
        try (TestClient annAgain = TestClient.tcp(one.tcp())) {
            // Saw 5: needs 6..10, which the buffer of 5 still holds.
            assertThat(annAgain.resume(annLogin.getResumeToken(), 5).hasResumed()).isTrue();
            Await.until(TestClient.WAIT, "the replay", () -> annAgain.pushes().size() == 5);
            assertPushes(annAgain.pushes(), 6, 10);
        }
        try (TestClient bobAgain = TestClient.tcp(one.tcp())) {
            // Saw nothing: 1..5 fell out of the buffer. Refused; the session is closed and unbound.
            ServerFrame refused = bobAgain.resume(bobLogin.getResumeToken(), 0);
            assertThat(refused.getError().getCode()).as("%s", refused).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
            assertThat(refused.getError().getMessage()).contains("replayMaxPushes");
            Await.until(TestClient.WAIT, "the binding to go", () -> cluster.boundTo("player:bob") == null);
            assertThat(cluster.eventsOf("player:bob")).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
        }
    }

    @Test
    void twoResumesOfOneSessionRacedOnTwoGatewaysLeaveExactlyOneWinner() throws Exception {
        GatewayFixture.GatewayNode one = gateway("gateway-1", LONG_GRACE);
        GatewayFixture.GatewayNode two = gateway("gateway-2", LONG_GRACE);
        int rounds = Integer.getInteger("gateway.resumeRaces", 20);
        int firstWon = 0;
        for (int round = 0; round < rounds; round++) {
            String token = "player:race-" + round;
            TestClient player = TestClient.tcp(round % 2 == 0 ? one.tcp() : two.tcp());
            LoginOk login = player.login(token).getLoginOk();
            player.close();
            Await.until(TestClient.WAIT, "the session to detach",
                    () -> one.gateway().sessionCount() + two.gateway().sessionCount() == 0);
            push(token, 1, 2);
            TestClient a = TestClient.tcp(one.tcp());
            TestClient b = TestClient.tcp(two.tcp());
            CountDownLatch go = new CountDownLatch(1);
            AtomicReference<ServerFrame> answerA = new AtomicReference<>();
            AtomicReference<ServerFrame> answerB = new AtomicReference<>();
            Thread ta = Thread.ofVirtual().start(() -> awaitThen(go, () -> answerA.set(a.resume(login.getResumeToken(), 0))));
            Thread tb = Thread.ofVirtual().start(() -> awaitThen(go, () -> answerB.set(b.resume(login.getResumeToken(), 0))));
            go.countDown();
            ta.join();
            tb.join();
            String where = "round " + round + ": a=" + answerA.get() + " b=" + answerB.get();
            assertThat(answerA.get().hasResumed() ^ answerB.get().hasResumed()).as(where).isTrue();
            TestClient winner = answerA.get().hasResumed() ? a : b;
            TestClient loser = winner == a ? b : a;
            String winnerGateway = winner == a ? one.id() : two.id();
            firstWon += winner == a ? 1 : 0;
            loser.awaitClosed();
            Await.until(TestClient.WAIT, where + ": the replay", () -> winner.pushes().size() == 2);
            assertPushes(winner.pushes(), 1, 2);
            assertThat(cluster.boundTo(token)).as(where).isEqualTo(winnerGateway);
            push(token, 3, 3);
            Await.until(TestClient.WAIT, where + ": push 3", () -> winner.pushes().size() == 3);
            assertThat(cluster.eventsOf(token)).as(where).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
            winner.close();
            loser.close();
        }
        System.out.printf("resume race: %d rounds, gateway-1 won %d, gateway-2 won %d%n", rounds, firstWon,
                rounds - firstWon);
    }

    private static void awaitThen(CountDownLatch go, Runnable then) {
        try {
            if (go.await(10, TimeUnit.SECONDS)) {
                then.run();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
