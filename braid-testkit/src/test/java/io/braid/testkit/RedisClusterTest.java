package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RedisClusterTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @Test
    void everyNodeReportsAWholeCluster() {
        RedisCluster cluster = redis.cluster();
        assertThat(cluster.nodes()).hasSize(3);
        for (RedisServer node : cluster.nodes()) {
            try (RedisProbe probe = node.probe()) {
                String info = (String) probe.command("CLUSTER", "INFO");
                assertThat(InfoFields.get(info, "cluster_state")).isEqualTo("ok");
                assertThat(InfoFields.get(info, "cluster_slots_assigned")).isEqualTo("16384");
                assertThat(InfoFields.get(info, "cluster_known_nodes")).isEqualTo("3");
                assertThat(InfoFields.get(info, "cluster_size")).isEqualTo("3");
            }
        }
    }

    @Test
    void everyMasterOwnsAShareOfTheSlotsAndAllNodesAgree() {
        RedisCluster cluster = redis.cluster();
        Map<Integer, Integer> first = null;
        for (RedisServer node : cluster.nodes()) {
            try (RedisProbe probe = node.probe()) {
                Map<Integer, Integer> slotsByPort = slotsByPort((List<?>) probe.command("CLUSTER", "SLOTS"));
                assertThat(slotsByPort.keySet())
                        .containsExactlyInAnyOrderElementsOf(cluster.nodes().stream().map(RedisServer::port).toList());
                assertThat(slotsByPort.values()).allSatisfy(count -> assertThat(count).isGreaterThan(5000));
                assertThat(slotsByPort.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(16_384);
                if (first == null) {
                    first = slotsByPort;
                }
                assertThat(slotsByPort).isEqualTo(first);
            }
        }
    }

    @Test
    void keysWithDifferentHashTagsLandOnDifferentNodes() {
        RedisCluster cluster = redis.cluster();
        try (RedisProbe seed = cluster.nodes().get(0).probe()) {
            Map<Integer, Integer> ownerBySlot = ownerBySlot((List<?>) seed.command("CLUSTER", "SLOTS"));
            Map<Integer, String> keyByOwner = new HashMap<>();
            for (int i = 0; keyByOwner.size() < 3; i++) {
                String key = "braid:{tok:" + i + "}:links";
                long slot = (Long) seed.command("CLUSTER", "KEYSLOT", key);
                keyByOwner.putIfAbsent(ownerBySlot.get((int) slot), key);
            }
            for (RedisServer node : cluster.nodes()) {
                String own = keyByOwner.get(node.port());
                try (RedisProbe probe = node.probe()) {
                    assertThat(probe.command("SET", own, "here")).isEqualTo("OK");
                    assertThat(probe.command("GET", own)).isEqualTo("here");
                    for (Map.Entry<Integer, String> other : keyByOwner.entrySet()) {
                        if (other.getKey() == node.port()) {
                            continue;
                        }
                        assertThatThrownBy(() -> probe.command("SET", other.getValue(), "there"))
                                .isInstanceOfSatisfying(RedisProbe.ErrorReply.class, e -> {
                                    assertThat(e.prefix()).isEqualTo("MOVED");
                                    assertThat(e.getMessage()).endsWith(" 127.0.0.1:" + other.getKey());
                                });
                    }
                }
            }
        }
    }

    @Test
    void aKilledNodeRestartsAsTheSameNodeAndTheClusterHeals() {
        RedisCluster cluster = redis.cluster();
        RedisServer node = cluster.nodes().get(2);
        try (RedisProbe probe = node.probe()) {
            Object id = probe.command("CLUSTER", "MYID");

            node.kill();
            node.restart();

            assertThat(probe.command("CLUSTER", "MYID")).isEqualTo(id);
        }
        for (RedisServer each : cluster.nodes()) {
            try (RedisProbe probe = each.probe()) {
                Await.until(Duration.ofSeconds(15), "cluster_state:ok on " + each, () -> "ok".equals(
                        InfoFields.get((String) probe.command("CLUSTER", "INFO"), "cluster_state")));
            }
        }
    }

    @Test
    void urisNameEveryNodeAndTheSeedIsTheFirst() {
        RedisCluster cluster = redis.cluster();
        List<String> expected = new ArrayList<>();
        for (RedisServer node : cluster.nodes()) {
            expected.add("redis://127.0.0.1:" + node.port());
        }
        assertThat(cluster.uris()).isEqualTo(expected);
        assertThat(cluster.uri()).isEqualTo(expected.get(0));
    }

    @Test
    void aClusterExtensionHasNoSingleServer() {
        assertThatThrownBy(redis::server).isInstanceOf(IllegalStateException.class).hasMessageContaining("cluster()");
    }

    @Test
    void badSizesAreRefused() {
        assertThatThrownBy(() -> RedisCluster.start(0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("masters");
        assertThatThrownBy(() -> RedisCluster.start(3, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replicasPerMaster");
    }

    /** CLUSTER SLOTS: [[from, to, [host, port, id, ...], replicas...], ...] → master port → slot count. */
    static Map<Integer, Integer> slotsByPort(List<?> clusterSlots) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (Object entry : clusterSlots) {
            List<?> range = (List<?>) entry;
            int from = ((Long) range.get(0)).intValue();
            int to = ((Long) range.get(1)).intValue();
            int port = ((Long) ((List<?>) range.get(2)).get(1)).intValue();
            counts.merge(port, to - from + 1, Integer::sum);
        }
        return counts;
    }

    private static Map<Integer, Integer> ownerBySlot(List<?> clusterSlots) {
        Map<Integer, Integer> owners = new HashMap<>();
        for (Object entry : clusterSlots) {
            List<?> range = (List<?>) entry;
            int port = ((Long) ((List<?>) range.get(2)).get(1)).intValue();
            for (long slot = (Long) range.get(0); slot <= (Long) range.get(1); slot++) {
                owners.put((int) slot, port);
            }
        }
        return owners;
    }
}
