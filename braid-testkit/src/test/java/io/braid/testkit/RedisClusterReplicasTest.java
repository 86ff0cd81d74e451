package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisClusterReplicasTest {

    @Test
    void threeMastersWithOneReplicaEachThenCloseLeavesNothing() {
        List<Long> pids = new ArrayList<>();
        RedisCluster cluster = RedisCluster.start(3, 1);
        try {
            List<RedisServer> nodes = cluster.nodes();
            assertThat(nodes).hasSize(6);
            nodes.forEach(node -> pids.add(node.pid()));

            try (RedisProbe probe = nodes.get(0).probe()) {
                String info = (String) probe.command("CLUSTER", "INFO");
                assertThat(InfoFields.get(info, "cluster_state")).isEqualTo("ok");
                assertThat(InfoFields.get(info, "cluster_known_nodes")).isEqualTo("6");

                // CLUSTER NODES: <id> <ip:port@bus> <flags> <master-id> ...
                Map<String, String> idByPort = new HashMap<>();
                Map<String, String> masterIdByReplicaPort = new HashMap<>();
                List<String> masterPorts = new ArrayList<>();
                for (String line : ((String) probe.command("CLUSTER", "NODES")).split("\n")) {
                    String[] fields = line.trim().split(" ");
                    String port = fields[1].substring(fields[1].indexOf(':') + 1, fields[1].indexOf('@'));
                    idByPort.put(port, fields[0]);
                    if (fields[2].contains("master")) {
                        masterPorts.add(port);
                    } else {
                        assertThat(fields[2]).contains("slave");
                        masterIdByReplicaPort.put(port, fields[3]);
                    }
                }
                assertThat(masterPorts).hasSize(3);
                assertThat(masterIdByReplicaPort).hasSize(3);
                assertThat(masterIdByReplicaPort.values())
                        .containsExactlyInAnyOrderElementsOf(masterPorts.stream().map(idByPort::get).toList());

                // the documented order: replica of master m at index 3 + m
                for (int m = 0; m < 3; m++) {
                    String masterPort = Integer.toString(nodes.get(m).port());
                    String replicaPort = Integer.toString(nodes.get(3 + m).port());
                    assertThat(masterPorts).contains(masterPort);
                    assertThat(masterIdByReplicaPort.get(replicaPort)).isEqualTo(idByPort.get(masterPort));
                }
            }
            for (int m = 0; m < 3; m++) {
                try (RedisProbe replica = nodes.get(3 + m).probe()) {
                    String replication = replica.info("replication");
                    assertThat(InfoFields.get(replication, "role")).isEqualTo("slave");
                    assertThat(InfoFields.get(replication, "master_port")).isEqualTo(Integer.toString(nodes.get(m).port()));
                    assertThat(InfoFields.get(replication, "master_link_status")).isEqualTo("up");
                }
            }
        } finally {
            cluster.close();
        }
        cluster.close();

        assertThat(pids).hasSize(6).allSatisfy(pid -> assertThat(RedisServerTest.isAlive(pid)).isFalse());
        assertThat(cluster.nodes()).allSatisfy(node -> assertThat(node.directory()).doesNotExist());
    }
}
