package io.braid.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * Turns running, empty Cluster-enabled servers into one cluster through plain Cluster commands
 * (what {@code redis-cli --cluster create} does, without its fixed one-second waits): assign slot
 * ranges, give every node its own config epoch, introduce the nodes with {@code CLUSTER MEET},
 * attach replicas with {@code CLUSTER REPLICATE}, then wait until every node sees the same thing.
 */
final class ClusterFormation {
    private static final String HOST = LoopbackPorts.HOST;
    /** Node flags that mean the node's view is not settled yet. */
    private static final Set<String> UNSETTLED_FLAGS = Set.of("handshake", "noaddr", "fail", "fail?");

    private final List<RedisServer> nodes;
    private final int masters;
    private final int replicasPerMaster;
    private final List<RedisProbe> probes = new ArrayList<>();
    private final List<String> ids = new ArrayList<>();

    private ClusterFormation(List<RedisServer> nodes, int masters, int replicasPerMaster) {
        this.nodes = nodes;
        this.masters = masters;
        this.replicasPerMaster = replicasPerMaster;
    }

    /**
     * Forms the cluster: {@code nodes} holds {@code masters} masters followed by their replicas,
     * in the order {@link RedisCluster} documents.
     *
     * @throws IllegalStateException if the nodes do not agree within {@code timeout}
     */
    static void form(List<RedisServer> nodes, int masters, int replicasPerMaster, Duration timeout) {
        ClusterFormation formation = new ClusterFormation(nodes, masters, replicasPerMaster);
        try {
            formation.run(timeout);
        } finally {
            formation.probes.forEach(RedisProbe::close);
        }
    }

    private void run(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (RedisServer node : nodes) {
            RedisProbe probe = node.probe();
            probes.add(probe);
            ids.add((String) probe.command("CLUSTER", "MYID"));
        }
        for (int m = 0; m < masters; m++) {
            int[] range = slotRange(m, masters);
            probes.get(m).command("CLUSTER", "ADDSLOTSRANGE", Integer.toString(range[0]), Integer.toString(range[1]));
        }
        // Distinct epochs before the nodes meet, so no slot ownership ever has to be settled by a collision.
        for (int i = 0; i < nodes.size(); i++) {
            probes.get(i).command("CLUSTER", "SET-CONFIG-EPOCH", Integer.toString(i + 1));
        }
        for (int i = 1; i < nodes.size(); i++) {
            RedisServer node = nodes.get(i);
            probes.get(0).command("CLUSTER", "MEET", HOST, Integer.toString(node.port()),
                    Integer.toString(node.clusterPort()));
        }
        awaitAll(deadline, "every node to know all " + nodes.size() + " nodes", this::everyoneKnowsEveryone);
        for (int i = masters; i < nodes.size(); i++) {
            probes.get(i).command("CLUSTER", "REPLICATE", ids.get(masterOf(i)));
        }
        String expected = expectedView();
        awaitAll(deadline, "every node to agree on the slot map and the replicas, with cluster_state:ok",
                () -> isWhole(expected));
    }

    /**
     * Slots {@code [from, to]} of master {@code m}: contiguous ranges as even as possible, the
     * first masters taking one more slot when the division leaves a remainder.
     */
    static int[] slotRange(int m, int masters) {
        int base = RedisCluster.SLOTS / masters;
        int extra = RedisCluster.SLOTS % masters;
        int from = m * base + Math.min(m, extra);
        int size = base + (m < extra ? 1 : 0);
        return new int[] {from, from + size - 1};
    }

    private int masterOf(int nodeIndex) {
        return (nodeIndex - masters) / replicasPerMaster;
    }

    private boolean everyoneKnowsEveryone() {
        for (RedisProbe probe : probes) {
            String view = view((String) probe.command("CLUSTER", "NODES"), false);
            if (view == null || view.lines().count() != nodes.size()) {
                return false;
            }
        }
        return true;
    }

    private boolean isWhole(String expected) {
        for (int i = 0; i < nodes.size(); i++) {
            RedisProbe probe = probes.get(i);
            if (!"ok".equals(InfoFields.get((String) probe.command("CLUSTER", "INFO"), "cluster_state"))) {
                return false;
            }
            if (!expected.equals(view((String) probe.command("CLUSTER", "NODES"), true))) {
                return false;
            }
            if (i >= masters && !"up".equals(InfoFields.get(probe.info("replication"), "master_link_status"))) {
                return false;
            }
        }
        return true;
    }

    private String expectedView() {
        Set<String> lines = new TreeSet<>();
        for (int m = 0; m < masters; m++) {
            int[] range = slotRange(m, masters);
            lines.add(ids.get(m) + " master " + (range[0] == range[1] ? range[0] : range[0] + "-" + range[1]));
        }
        for (int i = masters; i < nodes.size(); i++) {
            lines.add(ids.get(i) + " replica-of " + ids.get(masterOf(i)));
        }
        return String.join("\n", lines);
    }

    /**
     * What a node's {@code CLUSTER NODES} reply says about the cluster, in a form that two nodes
     * share when they agree: one sorted line per node, {@code "ID master SLOTS..."} or
     * {@code "ID replica-of MASTER_ID"}. Null while any node is in handshake or suspected failing,
     * or, with {@code requireLinks}, while a link to another node is down.
     */
    static String view(String clusterNodes, boolean requireLinks) {
        Set<String> lines = new TreeSet<>();
        for (String line : clusterNodes.split("\r?\n")) {
            if (line.isBlank()) {
                continue;
            }
            // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
            String[] fields = line.trim().split(" ");
            List<String> flags = Arrays.asList(fields[2].split(","));
            if (flags.stream().anyMatch(UNSETTLED_FLAGS::contains)) {
                return null;
            }
            if (requireLinks && !flags.contains("myself") && !"connected".equals(fields[7])) {
                return null;
            }
            if (flags.contains("master")) {
                List<String> slots = Arrays.stream(fields, 8, fields.length)
                        .filter(slot -> !slot.startsWith("[")) // migrating/importing markers
                        .toList();
                lines.add(fields[0] + " master" + (slots.isEmpty() ? "" : " " + String.join(" ", slots)));
            } else {
                lines.add(fields[0] + " replica-of " + fields[3]);
            }
        }
        return String.join("\n", lines);
    }

    private void awaitAll(long deadline, String what, BooleanSupplier condition) {
        Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
        Await.until(left, () -> what + "; what the nodes see:" + describe(), condition);
    }

    private String describe() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < nodes.size(); i++) {
            text.append(System.lineSeparator()).append("--- node ").append(i).append(", ")
                    .append(HOST).append(':').append(nodes.get(i).port()).append(" ---");
            try {
                RedisProbe probe = probes.get(i);
                text.append(System.lineSeparator()).append("cluster_state:")
                        .append(InfoFields.get((String) probe.command("CLUSTER", "INFO"), "cluster_state"))
                        .append(System.lineSeparator()).append(((String) probe.command("CLUSTER", "NODES")).trim());
            } catch (RuntimeException e) {
                text.append(System.lineSeparator()).append("cannot ask it: ").append(e.getMessage());
            }
        }
        return text.toString();
    }
}
