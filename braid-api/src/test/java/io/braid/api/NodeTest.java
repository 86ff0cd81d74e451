package io.braid.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeTest {

    private static Node node(String id, String service, String host, int port, int weight) {
        return new Node(id, service, host, port, weight, NodeState.ACTIVE, Map.of());
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", " ", "\t\n"})
    void a_blank_id_is_refused_by_name(String id) {
        assertThatThrownBy(() -> node(id, "logic", "10.0.0.1", 9000, 100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("id must not be blank");
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", " "})
    void a_blank_service_is_refused_by_name(String service) {
        assertThatThrownBy(() -> node("n1", service, "10.0.0.1", 9000, 100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("service must not be blank");
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", " "})
    void a_blank_host_is_refused_by_name(String host) {
        assertThatThrownBy(() -> node("n1", "logic", host, 9000, 100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host must not be blank");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65_536, Integer.MAX_VALUE})
    void a_port_outside_1_to_65535_is_refused_with_its_value(int port) {
        assertThatThrownBy(() -> node("n1", "logic", "10.0.0.1", port, 100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port must be in 1..65535, was " + port);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 65_535})
    void the_port_bounds_are_accepted(int port) {
        assertThat(node("n1", "logic", "10.0.0.1", port, 100).port()).isEqualTo(port);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, Node.MAX_WEIGHT + 1, Integer.MIN_VALUE})
    void a_weight_outside_0_to_max_is_refused_with_its_value(int weight) {
        assertThatThrownBy(() -> node("n1", "logic", "10.0.0.1", 9000, weight))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("weight must be in 0..1000000, was " + weight);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, Node.MAX_WEIGHT})
    void the_weight_bounds_are_accepted(int weight) {
        assertThat(node("n1", "logic", "10.0.0.1", 9000, weight).weight()).isEqualTo(weight);
    }

    @Test
    void a_null_state_or_metadata_is_refused_by_name() {
        assertThatThrownBy(() -> new Node("n1", "logic", "h", 1, 1, null, Map.of()))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("state");
        assertThatThrownBy(() -> new Node("n1", "logic", "h", 1, 1, NodeState.ACTIVE, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("metadata");
    }

    @Test
    void metadata_is_copied_so_later_changes_to_the_source_do_not_leak_in() {
        Map<String, String> source = new HashMap<>();
        source.put("zone", "eu-1");

        Node node = new Node("n1", "logic", "10.0.0.1", 9000, 100, NodeState.ACTIVE, source);
        source.put("zone", "us-2");
        source.put("version", "2");

        assertThat(node.metadata()).containsExactly(Map.entry("zone", "eu-1"));
    }

    @Test
    void metadata_cannot_be_changed_through_the_node() {
        Node node = new Node("n1", "logic", "10.0.0.1", 9000, 100, NodeState.ACTIVE, Map.of("zone", "eu-1"));

        assertThatThrownBy(() -> node.metadata().put("zone", "us-2"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(node.metadata()).containsEntry("zone", "eu-1");
    }

    @Test
    void of_makes_an_active_node_without_metadata() {
        Node node = Node.of("n1", "logic", "10.0.0.1", 9000, 100);

        assertThat(node.state()).isEqualTo(NodeState.ACTIVE);
        assertThat(node.isActive()).isTrue();
        assertThat(node.metadata()).isEmpty();
    }

    @Test
    void address_is_host_colon_port() {
        assertThat(Node.of("n1", "logic", "10.0.0.1", 9000, 100).address()).isEqualTo("10.0.0.1:9000");
        assertThat(Node.of("n2", "logic", "logic-2.internal", 1, 100).address()).isEqualTo("logic-2.internal:1");
    }

    @Test
    void with_weight_changes_only_the_weight_and_leaves_the_original_alone() {
        Node original = new Node("n1", "logic", "10.0.0.1", 9000, 100, NodeState.DRAINING, Map.of("zone", "eu-1"));

        Node changed = original.withWeight(0);

        assertThat(changed).isEqualTo(
                new Node("n1", "logic", "10.0.0.1", 9000, 0, NodeState.DRAINING, Map.of("zone", "eu-1")));
        assertThat(original.weight()).isEqualTo(100);
    }

    @Test
    void with_weight_validates_the_new_weight() {
        Node node = Node.of("n1", "logic", "10.0.0.1", 9000, 100);

        assertThatThrownBy(() -> node.withWeight(Node.MAX_WEIGHT + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("weight");
        assertThatThrownBy(() -> node.withWeight(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("weight");
    }

    @Test
    void with_state_changes_only_the_state_and_is_active_follows_it() {
        Node active = new Node("n1", "logic", "10.0.0.1", 9000, 100, NodeState.ACTIVE, Map.of("zone", "eu-1"));

        Node draining = active.withState(NodeState.DRAINING);

        assertThat(draining).isEqualTo(
                new Node("n1", "logic", "10.0.0.1", 9000, 100, NodeState.DRAINING, Map.of("zone", "eu-1")));
        assertThat(draining.isActive()).isFalse();
        assertThat(active.isActive()).isTrue();
        assertThat(draining.withState(NodeState.ACTIVE)).isEqualTo(active);
        assertThatThrownBy(() -> active.withState(null)).isInstanceOf(NullPointerException.class);
    }
}
