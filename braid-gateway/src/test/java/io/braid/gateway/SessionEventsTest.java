package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Channel;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Session events reach logic nodes on the topic, and the gateway's listener, once each. */
class SessionEventsTest {
    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
    private final GatewayFixture.GatewayNode two = cluster.gateway("gateway-2");

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @Test
    void aLogicNodeHearsBoundKickedAndClosedOnTheTopic() throws Exception {
        List<SessionEvent> heard = new CopyOnWriteArrayList<>();
        try (Channel channel = cluster.logic.topic(Gateway.SESSIONS_TOPIC).subscribe("logic-sessions")) {
            channel.onMessage(message -> heard.add(SessionEvent.parse(message.body())));
            TestClient first = TestClient.tcp(one.tcp());
            String firstId = first.login("player:ann").getLoginOk().getSessionId();
            try (TestClient second = TestClient.webSocket(two.ws(), true)) {
                String secondId = second.login("player:ann").getLoginOk().getSessionId();
                first.await(ServerFrame::hasKicked, "the kick");
                first.close();
                second.close();
                Await.until(TestClient.WAIT, () -> "four events; heard " + heard, () -> heard.size() >= 4);
                assertThat(heard).extracting(SessionEvent::type, SessionEvent::sessionId, SessionEvent::gatewayNode)
                        .containsExactlyInAnyOrder(
                                org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, firstId, "gateway-1"),
                                org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.KICKED, firstId, "gateway-1"),
                                org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, secondId, "gateway-2"),
                                org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.CLOSED, secondId, "gateway-2"));
                assertThat(heard).allSatisfy(event -> assertThat(event.token()).isEqualTo("player:ann"));
                assertThat(cluster.eventsOf("player:ann")).hasSize(4);
            }
        }
        Await.until(TestClient.WAIT, "the binding to go", () -> cluster.boundTo("player:ann") == null);
    }

    @Test
    void closingTheGatewayClosesItsSessionsOnceAndUnbindsThem() {
        TestClient ann = TestClient.tcp(one.tcp());
        TestClient bob = TestClient.webSocket(one.ws(), false);
        ann.login("player:ann");
        bob.login("player:bob");
        one.gateway().close();
        one.gateway().close(); // idempotent
        ann.awaitClosed();
        bob.awaitClosed();
        assertThat(cluster.boundTo("player:ann")).isNull();
        assertThat(cluster.boundTo("player:bob")).isNull();
        assertThat(cluster.eventsOf("player:ann")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
        assertThat(cluster.eventsOf("player:bob")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
        ann.close();
        bob.close();
    }
}
