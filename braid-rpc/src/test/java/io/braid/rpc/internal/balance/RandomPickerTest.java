package io.braid.rpc.internal.balance;

import io.braid.api.Node;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.IntStream;

import static io.braid.rpc.internal.balance.SmoothWeightedPickerTest.node;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RandomPickerTest {

    // Each count is binomial(30,000, 1/3): standard deviation about 82, so ±500 is about six of them.
    private static final int PICKS = 30_000;
    private static final int LOW = 9_500;
    private static final int HIGH = 10_500;

    @Test
    void picks_are_uniform_over_eligible_nodes_whatever_their_weight() {
        RandomPicker picker = RandomPicker.of(List.of(node("A", 1), node("B", 50), node("C", 1_000_000)));

        Map<String, Integer> counts = count(picker, node -> true, PICKS);

        assertThat(counts).containsOnlyKeys("A", "B", "C");
        assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(LOW, HIGH));
    }

    @Test
    void picks_stay_uniform_when_most_nodes_are_ineligible() {
        // 3 eligible out of 20: the random probes often all miss, so the fallback pass runs too.
        List<Node> nodes = IntStream.range(0, 20).mapToObj(i -> node("n" + i, 1)).toList();
        Set<String> eligible = Set.of("n3", "n11", "n19");
        RandomPicker picker = RandomPicker.of(nodes);

        Map<String, Integer> counts = count(picker, node -> eligible.contains(node.id()), PICKS);

        assertThat(counts).containsOnlyKeys(eligible);
        assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(LOW, HIGH));
    }

    @Test
    void an_ineligible_node_is_never_returned() {
        List<Node> nodes = IntStream.range(0, 6).mapToObj(i -> node("n" + i, 1)).toList();
        RandomPicker picker = RandomPicker.of(nodes);
        Predicate<Node> notN2 = node -> !node.id().equals("n2");

        Map<String, Integer> counts = count(picker, notN2, 10_000);

        assertThat(counts).containsOnlyKeys("n0", "n1", "n3", "n4", "n5");
    }

    @Test
    void a_single_eligible_node_is_always_found() {
        List<Node> nodes = IntStream.range(0, 200).mapToObj(i -> node("n" + i, 1)).toList();
        RandomPicker picker = RandomPicker.of(nodes);

        for (int i = 0; i < 1_000; i++) {
            assertThat(picker.pick(node -> node.id().equals("n137"))).isSameAs(nodes.get(137));
        }
    }

    @Test
    void a_node_with_weight_zero_is_never_picked() {
        RandomPicker picker = RandomPicker.of(List.of(node("Z", 0), node("A", 1)));

        assertThat(count(picker, node -> true, 1_000)).containsOnlyKeys("A");
        assertThat(picker.pick(node -> node.id().equals("Z"))).isNull();
        assertThat(picker.nodes()).extracting(Node::id).containsExactly("Z", "A");
    }

    @Test
    void nothing_eligible_gives_null() {
        RandomPicker picker = RandomPicker.of(List.of(node("A", 1), node("B", 1)));

        assertThat(picker.pick(node -> false)).isNull();
        assertThat(RandomPicker.of(List.of()).pick(node -> true)).isNull();
    }

    @Test
    void nodes_is_an_immutable_copy_and_bad_input_is_refused() {
        List<Node> input = new ArrayList<>(List.of(node("A", 1)));
        RandomPicker picker = RandomPicker.of(input);
        input.add(node("B", 1));

        assertThat(picker.nodes()).extracting(Node::id).containsExactly("A");
        assertThatThrownBy(() -> picker.nodes().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> RandomPicker.of(List.of(node("A", 1), node("A", 2))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'A'");
        assertThatThrownBy(() -> picker.pick(null)).isInstanceOf(NullPointerException.class);
    }

    private static Map<String, Integer> count(RandomPicker picker, Predicate<Node> eligible, int picks) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < picks; i++) {
            Node node = picker.pick(eligible);
            assertThat(node).isNotNull();
            counts.merge(node.id(), 1, Integer::sum);
        }
        return counts;
    }
}
