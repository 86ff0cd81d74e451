package io.braid.rpc.internal.balance;

import io.braid.api.Node;
import io.braid.api.NodeState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SmoothWeightedPickerTest {

    private static final Node A = node("A", 4);
    private static final Node B = node("B", 2);
    private static final Node C = node("C", 1);

    @Test
    void weights_4_2_1_pick_ABACABA_every_cycle() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));

        for (int cycle = 0; cycle < 5; cycle++) {
            assertThat(picks(picker::pick, 7)).as("cycle %d", cycle).isEqualTo("ABACABA");
        }
    }

    @Test
    void weights_5_1_1_pick_aabacaa_every_cycle() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(
                List.of(node("a", 5), node("b", 1), node("c", 1)));

        for (int cycle = 0; cycle < 5; cycle++) {
            assertThat(picks(picker::pick, 7)).as("cycle %d", cycle).isEqualTo("aabacaa");
        }
    }

    @Test
    void ties_go_to_the_earliest_node_in_list_order() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(
                List.of(node("x", 1), node("y", 1), node("z", 1)));

        assertThat(picks(picker::pick, 9)).isEqualTo("xyzxyzxyz");
    }

    @Test
    void seven_thousand_picks_split_exactly_4000_2000_1000() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));

        Map<String, Integer> counts = count(picker::pick, 7000);

        assertThat(counts).containsExactlyInAnyOrderEntriesOf(Map.of("A", 4000, "B", 2000, "C", 1000));
    }

    @Test
    void a_node_failing_the_predicate_is_skipped_every_time() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        Predicate<Node> notB = node -> !node.id().equals("B");

        // As if B were not there: A and C at 4:1.
        assertThat(picks(() -> picker.pick(notB), 10)).isEqualTo("AACAAAACAA");
    }

    @Test
    void a_node_skipped_for_one_pick_gains_nothing_that_round() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));

        Node first = picker.pick(node -> node != A);

        assertThat(first).isEqualTo(B);
        // A stayed at 0; B gained 2 and paid the eligible total 3; C gained 1.
        assertThat(picker.currentWeightsSnapshot()).containsExactly(0, -1, 1);
        // Then A (4, 1, 2), then B and C tie at 3 and the earlier, B, wins.
        assertThat(picks(picker::pick, 2)).isEqualTo("AB");
    }

    @Test
    void nothing_eligible_gives_null_and_changes_nothing() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        picker.pick();
        long[] before = picker.currentWeightsSnapshot();

        assertThat(picker.pick(node -> false)).isNull();
        assertThat(picker.currentWeightsSnapshot()).containsExactly(before);
    }

    @Test
    void an_empty_picker_gives_null() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of());

        assertThat(picker.pick()).isNull();
        assertThat(picker.pick(node -> true)).isNull();
        assertThat(picker.nodes()).isEmpty();
    }

    @Test
    void a_node_with_weight_zero_is_never_picked() {
        Node zero = node("Z", 0);
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(zero, A, B));

        Map<String, Integer> plain = count(picker::pick, 600);
        Map<String, Integer> filtered = count(() -> picker.pick(node -> true), 600);

        assertThat(plain).containsExactlyInAnyOrderEntriesOf(Map.of("A", 400, "B", 200));
        assertThat(filtered).containsExactlyInAnyOrderEntriesOf(Map.of("A", 400, "B", 200));
        assertThat(picker.pick(node -> node == zero)).isNull();
    }

    @Test
    void only_zero_weights_give_null() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(node("Z1", 0), node("Z2", 0)));

        assertThat(picker.pick()).isNull();
        assertThat(picker.pick(node -> true)).isNull();
    }

    @Test
    void state_is_left_to_the_predicate() {
        Node draining = A.withState(NodeState.DRAINING);
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(draining, B));

        assertThat(picker.pick()).isEqualTo(draining);
        assertThat(count(() -> picker.pick(Node::isActive), 12)).containsExactlyEntriesOf(Map.of("B", 12));
    }

    @Test
    void update_with_a_new_weight_continues_the_rotation_and_applies_the_weight() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        assertThat(picks(picker::pick, 3)).isEqualTo("ABA");

        SmoothWeightedPicker updated = picker.update(List.of(A, B, C.withWeight(2)));

        // C had been waiting (current 3): it goes first, where a fresh 4:2:2 picker would start with A.
        assertThat(picks(updated::pick, 8)).isEqualTo("CABACABA");
        assertThat(updated.nodes()).extracting(Node::weight).containsExactly(4, 2, 2);
        for (int cycle = 0; cycle < 10; cycle++) {
            assertThat(count(updated::pick, 8)).as("cycle %d", cycle)
                    .containsExactlyInAnyOrderEntriesOf(Map.of("A", 4, "B", 2, "C", 2));
        }
    }

    @Test
    void a_node_whose_weight_drops_to_zero_stops_being_picked_at_once() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        assertThat(picks(picker::pick, 3)).isEqualTo("ABA");

        // C is owed the next pick (current 3, the largest) when its weight goes to zero.
        SmoothWeightedPicker updated = picker.update(List.of(A, B, C.withWeight(0)));

        assertThat(count(updated::pick, 60)).containsOnlyKeys("A", "B");
        assertThat(count(() -> updated.pick(node -> true), 60)).containsOnlyKeys("A", "B");
    }

    @Test
    void update_with_the_same_nodes_is_invisible_in_the_sequence() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        String before = picks(picker::pick, 3);

        SmoothWeightedPicker same = picker.update(List.of(A, B, C));

        assertThat(before + picks(same::pick, 11)).isEqualTo("ABACABA" + "ABACABA");
    }

    @Test
    void a_node_added_mid_cycle_joins_without_resetting_the_others() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        assertThat(picks(picker::pick, 3)).isEqualTo("ABA");

        SmoothWeightedPicker updated = picker.update(List.of(A, B, C, node("D", 1)));

        for (int cycle = 0; cycle < 5; cycle++) {
            assertThat(picks(updated::pick, 8)).as("cycle %d", cycle).isEqualTo("CABADABA");
        }
    }

    @Test
    void a_node_removed_mid_cycle_leaves_the_others_in_proportion() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        assertThat(picks(picker::pick, 2)).isEqualTo("AB");

        SmoothWeightedPicker updated = picker.update(List.of(A, C));

        assertThat(updated.nodes()).containsExactly(A, C);
        for (int cycle = 0; cycle < 5; cycle++) {
            assertThat(picks(updated::pick, 5)).as("cycle %d", cycle).isEqualTo("AACAA");
        }
    }

    @Test
    void update_does_not_change_the_old_picker() {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        picks(picker::pick, 3);

        SmoothWeightedPicker updated = picker.update(List.of(A));

        assertThat(picker.nodes()).containsExactly(A, B, C);
        assertThat(picks(picker::pick, 4)).isEqualTo("CABA");
        assertThat(picks(updated::pick, 3)).isEqualTo("AAA");
    }

    @Test
    void current_weights_stay_bounded_through_many_leaves_and_joins() {
        List<Node> all = IntStream.range(0, 12).mapToObj(i -> node("n" + i, 1 + i * 7)).toList();
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(all);
        long totalWeight = all.stream().mapToLong(Node::weight).sum();

        for (int round = 0; round < 2000; round++) {
            picks(picker::pick, 1 + round % 5);
            int leaving = round % all.size();
            List<Node> members = new ArrayList<>(all);
            members.remove(leaving);
            picker = picker.update(members).update(all);

            long[] current = picker.currentWeightsSnapshot();
            long sum = 0;
            for (long value : current) {
                sum += value;
                assertThat(Math.abs(value)).as("round %d", round).isLessThanOrEqualTo(2 * totalWeight);
            }
            assertThat(sum).as("round %d", round).isBetween(0L, (long) all.size());
        }
    }

    @Test
    void more_than_64_nodes_filter_correctly() {
        List<Node> many = IntStream.range(0, 150).mapToObj(i -> node("n" + i, 1 + i % 3)).toList();
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(many);
        Set<String> even = new HashSet<>();
        long evenWeight = 0;
        for (int i = 0; i < many.size(); i += 2) {
            even.add(many.get(i).id());
            evenWeight += many.get(i).weight();
        }

        Map<String, Integer> counts = count(() -> picker.pick(node -> even.contains(node.id())),
                (int) evenWeight * 3);

        assertThat(counts.keySet()).isEqualTo(even);
        for (int i = 0; i < many.size(); i += 2) {
            assertThat(counts.get(many.get(i).id())).as("n%d", i).isEqualTo(many.get(i).weight() * 3);
        }
        // The filtered picks ended on a cycle boundary, so plain picks start a clean rotation.
        Map<String, Integer> all = count(picker::pick, 300 * 3);
        for (Node node : many) {
            assertThat(all.get(node.id())).as(node.id()).isEqualTo(node.weight() * 3);
        }
    }

    @Test
    void concurrent_picks_keep_the_exact_4_2_1_totals() throws Exception {
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(List.of(A, B, C));
        int threads = 8;
        int picksPerThread = 70_000;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<int[]>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                boolean filtered = t % 2 == 0;
                results.add(pool.submit(() -> {
                    start.await();
                    int[] counts = new int[3];
                    for (int i = 0; i < picksPerThread; i++) {
                        Node picked = filtered ? picker.pick(node -> true) : picker.pick();
                        counts[picked == A ? 0 : picked == B ? 1 : 2]++;
                    }
                    return counts;
                }));
            }
            start.countDown();
            int[] totals = new int[3];
            for (Future<int[]> result : results) {
                int[] counts = result.get(60, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) {
                    totals[i] += counts[i];
                }
            }

            assertThat(totals).containsExactly(320_000, 160_000, 80_000);
            assertThat(picker.currentWeightsSnapshot()).containsExactly(0, 0, 0);
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void picks_keep_working_while_the_membership_changes() throws Exception {
        List<Node> first = List.of(A, B, C);
        Node d = node("D", 3);
        List<Node> second = List.of(B, d, node("E", 0));
        Set<Node> allowed = Set.of(A, B, C, d);
        AtomicReference<SmoothWeightedPicker> current = new AtomicReference<>(SmoothWeightedPicker.of(first));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong picks = new AtomicLong();
        Set<String> seen = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    while (!stop.get()) {
                        Node node = current.get().pick(Node::isActive);
                        assertThat(allowed).contains(node);
                        seen.add(node.id());
                        picks.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (int change = 0; change < 2_000; change++) {
                // Let the pickers work on each membership before replacing it.
                long before = picks.get();
                while (picks.get() < before + 4) {
                    assertThat(results).noneMatch(Future::isDone);
                    Thread.onSpinWait();
                }
                current.set(current.get().update(change % 2 == 0 ? second : first));
            }
            stop.set(true);

            for (Future<?> result : results) {
                result.get(60, TimeUnit.SECONDS);
            }
            assertThat(seen).containsExactlyInAnyOrder("A", "B", "C", "D");
            assertThat(current.get().nodes()).containsExactlyElementsOf(first);
        } finally {
            stop.set(true);
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void nodes_is_an_immutable_copy() {
        List<Node> input = new ArrayList<>(List.of(A, B));
        SmoothWeightedPicker picker = SmoothWeightedPicker.of(input);
        input.add(C);

        assertThat(picker.nodes()).containsExactly(A, B);
        assertThatThrownBy(() -> picker.nodes().add(C)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void duplicate_ids_and_nulls_are_refused() {
        assertThatThrownBy(() -> SmoothWeightedPicker.of(List.of(A, A.withWeight(9))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'A'");
        assertThatThrownBy(() -> SmoothWeightedPicker.of(List.of(A)).update(List.of(B, B)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'B'");
        assertThatThrownBy(() -> SmoothWeightedPicker.of(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> SmoothWeightedPicker.of(List.of(A)).pick(null))
                .isInstanceOf(NullPointerException.class);
    }

    static Node node(String id, int weight) {
        return Node.of(id, "logic", "10.0.0.1", 7000, weight);
    }

    private static String picks(Supplier<Node> pick, int count) {
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < count; i++) {
            ids.append(pick.get().id());
        }
        return ids.toString();
    }

    private static Map<String, Integer> count(Supplier<Node> pick, int picks) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(pick.get().id(), 1, Integer::sum);
        }
        return counts;
    }
}
