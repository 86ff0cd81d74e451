package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.ServerFrame;
import org.junit.jupiter.api.Test;

/**
 * A gateway's death on the in-memory control plane (the scenarios of {@link GatewayDeathContract}):
 * sessions resume on another gateway from the durable session store with exactly the pushes they
 * missed; and a binder that stops answering but stays in discovery.
 */
class GatewayDeathTest extends GatewayDeathContract {
    GatewayDeathTest() {
        super(300, 10, STORM);
    }

    @Override
    GatewayFixture start() {
        return GatewayFixture.inMemory();
    }

    /**
     * The gateway dies but its node stays in discovery (as a kill -9 until the discovery ttl; here
     * its node lives on and refuses claims UNAVAILABLE): the resume's claims fail until the
     * claimant's timer (1 s) gives up on the binder and takes the session over from the store,
     * overwriting the link. Exactly the missed push is replayed, the next arrives, events BOUND,
     * RESUMED.
     */
    @Test
    void aResumeTakesTheSessionOverFromTheStoreWhenTheBinderStopsAnsweringButStaysInDiscovery() {
        GatewayFixture.GatewayNode one = GatewayDeath.gateway(cluster, "gateway-1", GatewayDeath.GRACE);
        GatewayFixture.GatewayNode two = GatewayDeath.gateway(cluster, "gateway-2", GatewayDeath.GRACE);
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:zed").getLoginOk();
        for (long i = 1; i <= 3; i++) {
            assertThat(GatewayDeath.pushUntilTaken(cluster, "player:zed", "p" + i)).isEqualTo(i);
        }
        first.await(frame -> frame.hasPush() && frame.getPush().getPushSeq() == 3, "push 3");
        one.gateway().crash(); // the node stays registered
        first.awaitClosed();
        long started = System.nanoTime();
        try (TestClient second = TestClient.tcp(two.tcp())) {
            ServerFrame resumed = second.resume(login.getResumeToken(), 2);
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertThat(resumed.hasResumed()).as("%s", resumed).isTrue();
            assertThat(millis).as("ms until the claimant gave up on the binder").isGreaterThanOrEqualTo(900);
            second.await(ServerFrame::hasPush, "the replay");
            assertThat(cluster.boundTo("player:zed")).isEqualTo("gateway-2");
            assertThat(GatewayDeath.pushUntilTaken(cluster, "player:zed", "p4")).isEqualTo(4L);
            second.await(frame -> frame.hasPush() && frame.getPush().getPushSeq() == 4, "push 4");
            assertThat(second.pushes()).extracting(push -> push.getPushSeq() + ":" + TestClient.utf8(push.getPayload()))
                    .containsExactly("3:p3", "4:p4");
            assertThat(cluster.eventsOf("player:zed")).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
            System.out.printf("resume with the dead binder still in discovery: %d ms%n", millis);
        }
    }
}
