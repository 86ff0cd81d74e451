package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Failing masters over, politely and by killing them; the cluster heals and keeps the data it acknowledged. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisClusterFailoverTest {
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(1);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered(3, 1, NODE_TIMEOUT);

    @Test
    @Order(1)
    void aManualFailoverHandsTheSlotsToTheReplicaAndLosesNothing() {
        RedisCluster cluster = redis.cluster();
        assertThat(cluster.nodeTimeout()).isEqualTo(NODE_TIMEOUT);
        RedisServer master = cluster.masterOf("player:{7}");
        assertThat(cluster.masters()).hasSize(3).contains(master);
        try (RedisProbe probe = master.probe()) {
            probe.command("SET", "player:{7}", "online");
        }

        long start = System.nanoTime();
        RedisServer promoted = cluster.failover(master);
        System.out.printf("manual failover took %d ms%n", (System.nanoTime() - start) / 1_000_000);

        assertThat(promoted).isNotEqualTo(master);
        assertThat(cluster.masterOf("player:{7}")).isEqualTo(promoted);
        assertThat(cluster.replicasOf(promoted)).containsExactly(master);
        assertThat(cluster.masters()).hasSize(3).contains(promoted).doesNotContain(master);
        try (RedisProbe probe = promoted.probe()) {
            assertThat(probe.command("GET", "player:{7}")).isEqualTo("online");
        }
        try (RedisProbe probe = master.probe()) {
            assertThatThrownBy(() -> probe.command("SET", "player:{7}", "x"))
                    .isInstanceOfSatisfying(RedisProbe.ErrorReply.class, e -> assertThat(e.prefix()).isEqualTo("MOVED"));
        }
    }

    @Test
    @Order(2)
    void aKilledMasterIsReplacedByItsReplicaAndRejoinsAsAReplicaAfterRestart() {
        RedisCluster cluster = redis.cluster();
        RedisServer master = cluster.masterOf("player:{9}");
        try (RedisProbe probe = master.probe()) {
            probe.command("SET", "player:{9}", "online");
            assertThat(probe.command("WAIT", "1", "5000")).isEqualTo(1L); // replicated before the crash
        }

        long start = System.nanoTime();
        RedisServer promoted = cluster.killMaster(master);
        System.out.printf("failover after kill -9 of a master took %d ms (node timeout %d ms)%n",
                (System.nanoTime() - start) / 1_000_000, NODE_TIMEOUT.toMillis());

        assertThat(master.isRunning()).isFalse();
        assertThat(promoted).isNotEqualTo(master);
        assertThat(cluster.masterOf("player:{9}")).isEqualTo(promoted);
        try (RedisProbe probe = promoted.probe()) {
            assertThat(probe.command("GET", "player:{9}")).isEqualTo("online");
        }

        master.restart();
        cluster.awaitHealthy();
        assertThat(cluster.replicasOf(promoted)).containsExactly(master);
        assertThat(cluster.masters()).hasSize(3).doesNotContain(master);
    }

    @Test
    @Order(3)
    void failingOverAReplicaOrAStrangerIsRefused() {
        RedisCluster cluster = redis.cluster();
        RedisServer master = cluster.masters().get(0);
        RedisServer replica = cluster.replicasOf(master).get(0);

        assertThatThrownBy(() -> cluster.failover(replica))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not a master serving slots");
        try (RedisServer stranger = RedisServer.start()) {
            assertThatThrownBy(() -> cluster.killMaster(stranger))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("is not a node of");
        }
        assertThatThrownBy(() -> RedisCluster.start(1, 0, Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nodeTimeout must be between 100 ms and 60 s");
    }
}
