package io.braid.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One node's view of a Redis Cluster, parsed from its {@code CLUSTER NODES} reply: which node is
 * a master of which slots, which replicates which, which are flagged failing. Immutable.
 */
record ClusterTopology(List<Entry> entries) {
    /** Node flags that mean the node's view of that node is not settled yet (or that it is down). */
    static final Set<String> UNSETTLED_FLAGS = Set.of("handshake", "noaddr", "fail", "fail?");

    /** One line of {@code CLUSTER NODES}. */
    record Entry(String id, int port, List<String> flags, String masterId, boolean connected, List<int[]> slots) {
        boolean isMaster() {
            return flags.contains("master");
        }

        boolean isMyself() {
            return flags.contains("myself");
        }

        boolean isSettled() {
            return flags.stream().noneMatch(UNSETTLED_FLAGS::contains);
        }

        boolean serves(int slot) {
            return slots.stream().anyMatch(range -> range[0] <= slot && slot <= range[1]);
        }

        int slotCount() {
            return slots.stream().mapToInt(range -> range[1] - range[0] + 1).sum();
        }
    }

    static ClusterTopology parse(String clusterNodes) {
        List<Entry> entries = new ArrayList<>();
        for (String line : clusterNodes.split("\r?\n")) {
            if (line.isBlank()) {
                continue;
            }
            // <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
            String[] fields = line.trim().split(" ");
            String address = fields[1];
            int colon = address.lastIndexOf(':', address.indexOf('@') < 0 ? address.length() : address.indexOf('@'));
            int at = address.indexOf('@');
            int port = Integer.parseInt(address.substring(colon + 1, at < 0 ? address.length() : at));
            List<int[]> slots = new ArrayList<>();
            for (String slot : Arrays.copyOfRange(fields, 8, fields.length)) {
                if (slot.startsWith("[")) {
                    continue; // migrating/importing markers
                }
                int dash = slot.indexOf('-');
                slots.add(dash < 0
                        ? new int[] {Integer.parseInt(slot), Integer.parseInt(slot)}
                        : new int[] {Integer.parseInt(slot.substring(0, dash)), Integer.parseInt(slot.substring(dash + 1))});
            }
            entries.add(new Entry(fields[0], port, List.of(fields[2].split(",")), fields[3],
                    "connected".equals(fields[7]), List.copyOf(slots)));
        }
        return new ClusterTopology(List.copyOf(entries));
    }

    Optional<Entry> byPort(int port) {
        return entries.stream().filter(entry -> entry.port() == port).findFirst();
    }

    Optional<Entry> byId(String id) {
        return entries.stream().filter(entry -> entry.id().equals(id)).findFirst();
    }

    /** The master that serves {@code slot} in this view, if any. */
    Optional<Entry> masterOf(int slot) {
        return entries.stream().filter(Entry::isMaster).filter(entry -> entry.serves(slot)).findFirst();
    }

    /** The nodes that replicate {@code masterId} in this view. */
    List<Entry> replicasOf(String masterId) {
        return entries.stream().filter(entry -> !entry.isMaster() && entry.masterId().equals(masterId)).toList();
    }
}
