package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A second login of one token wins and kicks the first, on one gateway or across two, and the
 * first session's late close never unbinds the second.
 */
class DuplicateLoginTest {
    /** Rounds of the race; {@code -Dgateway.races=1000} for a longer run. */
    static final int RACES = Integer.getInteger("gateway.races", 200);

    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
    private final GatewayFixture.GatewayNode two = cluster.gateway("gateway-2");

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @Test
    void aSecondLoginOnTheSameGatewayKicksTheFirstWhoseCloseLeavesTheSecondBound() throws Exception {
        try (TestClient first = TestClient.tcp(one.tcp()); TestClient second = TestClient.webSocket(one.ws(), false)) {
            String firstId = first.login("player:ann").getLoginOk().getSessionId();
            String secondId = second.login("player:ann").getLoginOk().getSessionId();

            ServerFrame kicked = first.await(ServerFrame::hasKicked, "the first session to be kicked");
            assertThat(kicked.getKicked().getReason()).contains("logged in again").contains("gateway-1");
            first.awaitClosed();
            // The first connection's close has run: the second keeps its binding, its session and its pushes.
            Await.until(TestClient.WAIT, "the first session's events",
                    () -> cluster.eventsOf("player:ann").size() == 3);
            assertThat(cluster.eventsOf("player:ann")).extracting(SessionEvent::type, SessionEvent::sessionId)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, firstId),
                            org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.KICKED, firstId),
                            org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, secondId));
            assertThat(cluster.boundTo("player:ann")).isEqualTo("gateway-1");
            assertThat(one.gateway().sessionCount()).isEqualTo(1);
            assertThat(cluster.pusher().push("player:ann", "hello".getBytes()).join()).isEqualTo(1L);
            assertThat(TestClient.utf8(second.await(ServerFrame::hasPush, "the push").getPush().getPayload()))
                    .isEqualTo("hello");
            assertThat(second.call("logic.player.act", "still here").getCode()).isZero();
        }
    }

    @Test
    void aSecondLoginOnAnotherGatewayMovesTheBindingAndKicksTheFirst() throws Exception {
        try (TestClient first = TestClient.tcp(one.tcp()); TestClient second = TestClient.tcp(two.tcp())) {
            assertThat(first.login("player:bob").hasLoginOk()).isTrue();
            assertThat(cluster.boundTo("player:bob")).isEqualTo("gateway-1");

            assertThat(second.login("player:bob").hasLoginOk()).isTrue();
            ServerFrame kicked = first.await(ServerFrame::hasKicked, "the first session to be kicked");
            assertThat(kicked.getKicked().getReason()).contains("gateway-2");
            first.awaitClosed();

            assertThat(cluster.boundTo("player:bob")).isEqualTo("gateway-2");
            Await.until(TestClient.WAIT, "gateway-1 to drop the session", () -> one.gateway().sessionCount() == 0);
            assertThat(two.gateway().sessionCount()).isEqualTo(1);
            assertThat(cluster.pusher().push("player:bob", "to two".getBytes()).join()).isEqualTo(1L);
            second.await(ServerFrame::hasPush, "the push on gateway-2");
            assertThat(cluster.eventsOf("player:bob")).extracting(SessionEvent::type, SessionEvent::gatewayNode)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, "gateway-1"),
                            org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.KICKED, "gateway-1"),
                            org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, "gateway-2"));
        }
    }

    @Test
    void twoLoginsOfOneTokenRacedOnTwoGatewaysLeaveExactlyOneBound() throws Exception {
        int firstWon = DuplicateLoginRace.run(cluster, one, two, "race", RACES);
        System.out.printf("duplicate-login race (in memory): %d rounds, gateway-1 won %d, gateway-2 won %d%n", RACES,
                firstWon, RACES - firstWon);
        assertThat(firstWon).as("both gateways win some rounds: the race is real").isBetween(1, RACES - 1);
    }
}
