package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway's death with the session records on a Redis Cluster (every key of a session in the
 * slot of {@code {gw:<token>}}, each gateway's index in the slot of {@code {gwidx:<node>}}): every
 * scenario of {@link GatewayDeath}. The sweep reads the dead gateway's index in one slot and ends
 * sessions whose records are in other slots, one single-slot command or script at a time. Each
 * master has a replica, so the master of the dead gateway's index can be killed under the sweep and replaced.
 */
class RedisClusterGatewayDeathTest extends GatewayDeathContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered(3, 1);

    RedisClusterGatewayDeathTest() {
        super(200, 3, REDIS_STORM);
    }

    @Override
    GatewayFixture start() {
        redis.cluster().flushAll();
        return GatewayFixture.onRedisCluster(redis.cluster().uris());
    }

    /**
     * Players on gateway-1, their records spread over the masters; gateway-1 dies and at once the
     * master of its index ({@code braid:{gwidx:gateway-1}}) is killed (SIGKILL): its slots have no
     * master for seconds (node timeout 3 s, then the replica's election), so the survivors' sweep,
     * due after 400 ms of grace, finds the index unreachable, CLUSTERDOWN, and records in those slots
     * too, and asks again until the replica serves them (a new slot map; scripts run by their source
     * where the node never saw them). Every player gets exactly one CLOSED naming gateway-1 and its
     * link is removed; none is closed twice.
     */
    @Test
    void theSweepEndsEverySessionAcrossSlotsWhileTheIndexMasterIsKilledAndReplaced() {
        Duration grace = Duration.ofMillis(400);
        GatewayFixture.GatewayNode one = GatewayDeath.gateway(cluster, "gateway-1", grace);
        GatewayDeath.gateway(cluster, "gateway-2", grace);
        GatewayDeath.gateway(cluster, "gateway-3", grace);
        int players = 24;
        List<TestClient> clients = new ArrayList<>();
        Set<Integer> recordMasters = new HashSet<>();
        RedisServer indexMaster = redis.cluster().masterOf("braid:{gwidx:gateway-1}");
        try {
            for (int i = 0; i < players; i++) {
                TestClient client = TestClient.tcp(one.tcp());
                clients.add(client);
                assertThat(client.login("player:swept-" + i).hasLoginOk()).isTrue();
                assertThat(GatewayDeath.pushUntilTaken(cluster, "player:swept-" + i, "x")).isEqualTo(1L);
                recordMasters.add(redis.cluster().masterOf("braid:{gw:player:swept-" + i + "}:s").port());
            }
            assertThat(recordMasters).as("masters holding the records").hasSizeGreaterThan(1);
            long diedAt = System.nanoTime();
            cluster.crash(one);
            RedisServer promoted = redis.cluster().killMaster(indexMaster);
            long failedOverAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - diedAt);
            assertThat(redis.cluster().masterOf("braid:{gwidx:gateway-1}")).isEqualTo(promoted);
            for (int i = 0; i < players; i++) {
                String token = "player:swept-" + i;
                Await.until(Duration.ofSeconds(30), () -> "one CLOSED for " + token + "; events "
                        + cluster.eventsOf(token), () -> cluster.eventsOf(token).size() == 2);
                Await.until(Duration.ofSeconds(30), () -> "the link of " + token + " to be removed, is "
                        + cluster.boundTo(token), () -> cluster.boundTo(token) == null);
            }
            long closedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - diedAt);
            for (int i = 0; i < players; i++) {
                List<SessionEvent> events = cluster.eventsOf("player:swept-" + i);
                assertThat(events).extracting(SessionEvent::type)
                        .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
                assertThat(events.getLast().gatewayNode()).isEqualTo("gateway-1");
            }
            System.out.printf("sweep under an index-master kill: %d sessions on %d masters, replica serving %d ms"
                    + " after the death, all CLOSED %d ms after it%n", players, recordMasters.size(), failedOverAfter,
                    closedAfter);
        } finally {
            clients.forEach(TestClient::close);
            if (!indexMaster.isRunning()) {
                indexMaster.restart(); // rejoins as the replica of the promoted one
                redis.cluster().awaitHealthy();
            }
        }
    }
}
