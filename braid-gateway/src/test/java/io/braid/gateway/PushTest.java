package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.proto.Push;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Pushes by token from a logic node reach the player's session with its own sequence 1, 2, 3, ... */
class PushTest {
    static final int PUSHES = 200;

    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
    private final GatewayFixture.GatewayNode two = cluster.gateway("gateway-2");

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @Test
    void pushesFromALogicNodeArriveInOrderNumberedOneToN() {
        try (TestClient player = TestClient.webSocket(two.ws(), false)) {
            player.login("player:ann");
            List<Long> seqs = new ArrayList<>();
            for (int i = 1; i <= PUSHES; i++) {
                seqs.add(cluster.pusher().push("player:ann", ("p" + i).getBytes(StandardCharsets.UTF_8)).join());
            }
            assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, PUSHES).boxed().toList());
            Await.until(TestClient.WAIT, "all pushes", () -> player.pushes().size() == PUSHES);
            List<Push> pushes = player.pushes();
            for (int i = 0; i < PUSHES; i++) {
                assertThat(pushes.get(i).getPushSeq()).isEqualTo(i + 1);
                assertThat(TestClient.utf8(pushes.get(i).getPayload())).isEqualTo("p" + (i + 1));
            }
        }
    }

    @Test
    void aPushAskedAgainWithItsIdIsShownOnceAndAnswersOneSeqAlsoAcrossAResume() {
        PushRetry.run(cluster, cluster.gateway("gateway-3", b -> b.resumeGrace(PushRetry.GRACE)),
                cluster.gateway("gateway-4", b -> b.resumeGrace(PushRetry.GRACE)), "player:dee");
    }

    @Test
    void aPushIdMustBeShortAndNotBlank() {
        assertThatThrownBy(() -> cluster.pusher().push("player:ann", " ", new byte[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pushId");
        assertThatThrownBy(() -> cluster.pusher().push("player:ann", "x".repeat(GatewayPush.MAX_PUSH_ID_LENGTH + 1),
                new byte[] {1})).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64");
    }

    @Test
    void aPushToATokenWithNoSessionFailsNotFound() {
        assertThatThrownBy(() -> cluster.pusher().push("player:nobody", new byte[] {1}).join())
                .isInstanceOf(CompletionException.class).cause().isInstanceOf(BraidException.class)
                .satisfies(e -> assertThat(((BraidException) e).code()).isEqualTo(Code.NOT_FOUND))
                .hasMessageContaining("player:nobody");
        // The push linked the token to some gateway on its way; that gateway gave the link up again.
        Await.until(TestClient.WAIT, "the stray link to go", () -> cluster.boundTo("player:nobody") == null);
    }

    /**
     * A push whose token is linked to a gateway node still starting (registered, its gateway's
     * methods not yet) is refused UNAVAILABLE, to be asked again, not NOT_FOUND: the player may well
     * have a session, which a resume is about to bring there (the demo's gateway restart lost a
     * reward so).
     */
    @Test
    void aPushReachingAGatewayNodeNotYetServingFailsUnavailableNotNotFound() {
        one.node().weight(0);
        two.node().weight(0); // a token without an owner is linked to gateway-3
        cluster.bareGatewayNode("gateway-3");
        assertThatThrownBy(() -> cluster.pusher().push("player:early", new byte[] {1}).join())
                .cause().satisfies(e -> assertThat(BraidException.from(e).code()).isEqualTo(Code.UNAVAILABLE))
                .hasMessageContaining("player:early").hasMessageContaining("starting");
    }

    @Test
    void aPushAfterLogoutFailsNotFound() {
        TestClient player = TestClient.tcp(one.tcp());
        player.login("player:bob");
        cluster.pusher().push("player:bob", new byte[] {1}).join();
        player.close();
        Await.until(TestClient.WAIT, "the binding to go", () -> cluster.boundTo("player:bob") == null);
        assertThatThrownBy(() -> cluster.pusher().push("player:bob", new byte[] {2}).join())
                .cause().satisfies(e -> assertThat(BraidException.from(e).code()).isEqualTo(Code.NOT_FOUND));
    }

    @Test
    void aNewSessionOnAnotherGatewayNumbersItsPushesFromOne() {
        try (TestClient first = TestClient.tcp(one.tcp())) {
            first.login("player:cy");
            cluster.pusher().push("player:cy", new byte[] {1}).join();
            cluster.pusher().push("player:cy", new byte[] {2}).join();
            try (TestClient second = TestClient.tcp(two.tcp())) {
                second.login("player:cy");
                first.await(ServerFrame::hasKicked, "the first session kicked");
                assertThat(cluster.pusher().push("player:cy", new byte[] {3}).join()).isEqualTo(1L);
                assertThat(second.await(ServerFrame::hasPush, "the push").getPush().getPushSeq()).isEqualTo(1L);
                assertThat(first.pushes()).extracting(Push::getPushSeq).containsExactly(1L, 2L);
            }
        }
    }
}
