package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Two logins of one token, released at the same moment on two gateways, round after round. After
 * each round: exactly one session is bound (its client has LoginOk, no Kicked, an open socket; the
 * token's link names its gateway; by the session events it is the only bound session of the
 * token) and the other client was kicked and closed. Never both bound, never none.
 */
final class DuplicateLoginRace {
    private DuplicateLoginRace() {
    }

    /** Runs {@code rounds} races; returns how many rounds gateway {@code one} won. */
    static int run(GatewayFixture cluster, GatewayFixture.GatewayNode one, GatewayFixture.GatewayNode two,
                   String prefix, int rounds) throws InterruptedException {
        List<TestClient> winners = new ArrayList<>();
        int firstWon = 0;
        try {
            for (int round = 0; round < rounds; round++) {
                String token = "player:" + prefix + "-" + round;
                TestClient a = TestClient.tcp(one.tcp());
                TestClient b = TestClient.tcp(two.tcp());
                CountDownLatch go = new CountDownLatch(1);
                Thread sendA = Thread.ofVirtual().start(() -> awaitThen(go, () -> a.login(token)));
                Thread sendB = Thread.ofVirtual().start(() -> awaitThen(go, () -> b.login(token)));
                go.countDown();
                sendA.join();
                sendB.join();

                String where = "round " + round;
                Await.until(TestClient.WAIT, () -> where + ": one kicked and closed, the other bound; a="
                        + a.received + " closed=" + a.isClosed() + ", b=" + b.received + " closed=" + b.isClosed(),
                        () -> (kickedAndClosed(a) && boundAndOpen(b)) || (kickedAndClosed(b) && boundAndOpen(a)));
                TestClient winner = boundAndOpen(a) ? a : b;
                String winnerGateway = winner == a ? one.id() : two.id();
                firstWon += winner == a ? 1 : 0;
                Await.until(TestClient.WAIT, where + ": the link to name the winner's gateway " + winnerGateway,
                        () -> winnerGateway.equals(cluster.boundTo(token)));
                String winnerSession = winner.await(ServerFrame::hasLoginOk, "login ok").getLoginOk().getSessionId();
                Await.until(TestClient.WAIT, () -> where + ": the bound sessions by events to be the winner's only; "
                        + cluster.eventsOf(token), () -> boundByEvents(cluster, token).equals(Set.of(winnerSession)));
                assertThat(winner.call("logic.player.act", "won").getCode()).as(where).isZero();
                winners.add(winner);
                (winner == a ? b : a).close();
            }
        } finally {
            winners.forEach(TestClient::close);
        }
        return firstWon;
    }

    private static Set<String> boundByEvents(GatewayFixture cluster, String token) {
        Set<String> bound = new HashSet<>();
        for (SessionEvent event : cluster.eventsOf(token)) {
            if (event.type() == SessionEvent.Type.BOUND) {
                bound.add(event.sessionId());
            } else {
                bound.remove(event.sessionId());
            }
        }
        return bound;
    }

    private static boolean kickedAndClosed(TestClient client) {
        return client.isClosed() && client.received.stream().anyMatch(ServerFrame::hasKicked);
    }

    private static boolean boundAndOpen(TestClient client) {
        return !client.isClosed() && client.received.stream().anyMatch(ServerFrame::hasLoginOk)
                && client.received.stream().noneMatch(frame -> frame.hasKicked() || frame.hasError());
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
