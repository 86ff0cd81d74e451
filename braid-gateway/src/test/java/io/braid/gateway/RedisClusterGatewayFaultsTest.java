package io.braid.gateway;

import io.braid.gateway.PushAudit.Player;
import io.braid.gateway.PushAudit.Pusher;
import io.braid.gateway.client.ClientEvent;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway session on a Redis Cluster (a replica per master) whose record's master is killed
 * (kill -9) while a logic node streams pushes to the player: the replica takes over after the node
 * timeout, maybe without the master's last writes. What the player sees, and the promise of
 * {@link RedisGatewayFaultsTest}: no push twice or out of order, every acknowledged push delivered
 * or the player logs in afresh after it, one bound session, pushes flowing again.
 */
class RedisClusterGatewayFaultsTest {
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(1);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered(3, 1, NODE_TIMEOUT);

    private GatewayFixture cluster;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final AtomicLong clock = new AtomicLong();

    @BeforeEach
    void start() {
        redis.cluster().flushAll();
        cluster = GatewayFixture.onRedisCluster(redis.cluster().uris());
    }

    @AfterEach
    void closeAndHealTheCluster() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
        cluster.close();
        for (RedisServer node : redis.cluster().nodes()) {
            if (!node.isRunning()) {
                node.restart();
            }
        }
        redis.cluster().awaitHealthy();
    }

    @Test
    void theMasterOfASessionsRecordKilledWhilePushesFlowLosesNoAcknowledgedPushSilently() {
        Duration grace = Duration.ofSeconds(2);
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(grace));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(grace));
        Player player = new Player("failover", List.of(one.tcp(), two.tcp()), clock, toClose);
        Pusher pushes = new Pusher(player, cluster, clock, toClose);
        pushes.awaitAcknowledged(20);

        RedisServer master = redis.cluster().masterOf("braid:{gw:" + player.token + "}:s");
        redis.cluster().killMaster(master);

        pushes.awaitAcknowledged(30);
        pushes.assertNoneSilentlyLost();
        player.assertEachSessionsPushesInOrderOnce();
        PushAudit.assertOneBoundSession(cluster, player.token);
        System.out.printf("cluster failover: %d pushes acknowledged, %d refused; the player saw %s; gateway events %s%n",
                pushes.acknowledgedCount(), pushes.refused.get(), player.events.stream().map(ClientEvent::type).toList(),
                cluster.eventsOf(player.token).stream().map(event -> event.type() + " " + event.reason()).toList());
    }
}
