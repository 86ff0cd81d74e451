package io.braid.runtime;

import io.braid.api.Node;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How many of a node's players move to which node in one round of rebalancing: toward each
 * node's share of the service's players by weight. A node sheds only when it holds more than its
 * share by more than the tolerance (a tenth of its share, at least one player), at most
 * {@code most} players a round, and only to nodes below their share, each at most its deficit;
 * the rest waits for the next round. Each node plans for itself from the same counts, so a round
 * moves players only off nodes above their share and onto nodes below it. Pure; thread-safe.
 */
final class Rebalance {
    private Rebalance() {
    }

    /**
     * @param self   this node's id, one of {@code nodes}
     * @param nodes  the ACTIVE nodes of the service with a weight above 0
     * @param counts players linked to each node (missing: 0)
     * @param most   the most players this node moves in one round
     * @return how many of this node's players go to each other node (by id), in the order of
     *         {@code nodes}; empty when this node is within its share
     */
    static Map<String, Integer> plan(String self, List<Node> nodes, Map<String, Long> counts, int most) {
        long total = 0;
        long weights = 0;
        for (Node node : nodes) {
            total += counts.getOrDefault(node.id(), 0L);
            weights += node.weight();
        }
        Map<String, Integer> plan = new LinkedHashMap<>();
        if (weights <= 0 || total == 0) {
            return plan;
        }
        long mine = 0;
        double myShare = 0;
        for (Node node : nodes) {
            if (node.id().equals(self)) {
                mine = counts.getOrDefault(self, 0L);
                myShare = (double) total * node.weight() / weights;
            }
        }
        double tolerance = Math.max(1, myShare / 10);
        if (mine - myShare <= tolerance) {
            return plan;
        }
        long toMove = Math.min(most, (long) Math.floor(mine - myShare));
        for (Node node : nodes) {
            if (toMove <= 0) {
                break;
            }
            if (node.id().equals(self)) {
                continue;
            }
            double share = (double) total * node.weight() / weights;
            long deficit = (long) Math.floor(share - counts.getOrDefault(node.id(), 0L));
            if (deficit > 0) {
                int moving = (int) Math.min(deficit, toMove);
                plan.put(node.id(), moving);
                toMove -= moving;
            }
        }
        return plan;
    }
}
