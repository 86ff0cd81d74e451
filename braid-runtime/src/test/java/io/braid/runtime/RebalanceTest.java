package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Node;
import io.braid.api.NodeState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan of one rebalancing round: toward the shares by weight, bounded, only to nodes below theirs. */
class RebalanceTest {
    private static Node node(String id, int weight) {
        return new Node(id, "logic", "127.0.0.1", 1, weight, NodeState.ACTIVE, Map.of());
    }

    @Test
    void aNodeAboveItsShareMovesTheExcessToNodesBelowTheirsAtMostTheRoundsBound() {
        List<Node> nodes = List.of(node("a", 100), node("b", 100), node("c", 100));
        Map<String, Long> counts = Map.of("a", 90L, "b", 0L, "c", 30L);
        assertThat(Rebalance.plan("a", nodes, counts, 1_000)).containsExactly(Map.entry("b", 40), Map.entry("c", 10));
        assertThat(Rebalance.plan("a", nodes, counts, 25)).containsExactly(Map.entry("b", 25));
        assertThat(Rebalance.plan("b", nodes, counts, 1_000)).as("below its share: moves nothing").isEmpty();
        assertThat(Rebalance.plan("c", nodes, counts, 1_000)).as("at its share").isEmpty();
    }

    @Test
    void sharesFollowTheWeights() {
        List<Node> nodes = List.of(node("a", 100), node("b", 300));
        assertThat(Rebalance.plan("a", nodes, Map.of("a", 80L), 1_000)).containsExactly(Map.entry("b", 60));
        assertThat(Rebalance.plan("a", nodes, Map.of("a", 20L, "b", 60L), 1_000)).isEmpty();
    }

    @Test
    void withinATenthOfItsShareOrOnePlayerANodeStays() {
        List<Node> nodes = List.of(node("a", 100), node("b", 100));
        assertThat(Rebalance.plan("a", nodes, Map.of("a", 105L, "b", 95L), 1_000)).isEmpty();
        assertThat(Rebalance.plan("a", nodes, Map.of("a", 2L, "b", 1L), 1_000)).isEmpty();
        assertThat(Rebalance.plan("a", nodes, Map.of("a", 120L, "b", 80L), 1_000)).containsExactly(Map.entry("b", 20));
        assertThat(Rebalance.plan("a", nodes, Map.of(), 1_000)).as("no players").isEmpty();
    }
}
