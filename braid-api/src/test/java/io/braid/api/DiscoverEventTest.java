package io.braid.api;

import io.braid.api.DiscoverEvent.Type;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiscoverEventTest {

    private static final Node NODE = Node.of("n1", "logic", "10.0.0.1", 9000, 100);
    private static final Node HEAVIER = NODE.withWeight(200);

    @Test
    void added_and_removed_carry_no_previous() {
        DiscoverEvent added = DiscoverEvent.added(NODE);
        DiscoverEvent removed = DiscoverEvent.removed(NODE);

        assertThat(added.type()).isEqualTo(Type.ADDED);
        assertThat(added.node()).isEqualTo(NODE);
        assertThat(added.previous()).isNull();
        assertThat(removed.type()).isEqualTo(Type.REMOVED);
        assertThat(removed.node()).isEqualTo(NODE);
        assertThat(removed.previous()).isNull();
    }

    @Test
    void updated_carries_the_node_before_and_after() {
        DiscoverEvent updated = DiscoverEvent.updated(NODE, HEAVIER);

        assertThat(updated.type()).isEqualTo(Type.UPDATED);
        assertThat(updated.previous()).isEqualTo(NODE);
        assertThat(updated.node()).isEqualTo(HEAVIER);
    }

    @Test
    void updated_without_previous_is_refused() {
        assertThatThrownBy(() -> new DiscoverEvent(Type.UPDATED, HEAVIER, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("previous");
        assertThatThrownBy(() -> DiscoverEvent.updated(null, HEAVIER))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void added_or_removed_with_previous_is_refused() {
        assertThatThrownBy(() -> new DiscoverEvent(Type.ADDED, HEAVIER, NODE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("previous");
        assertThatThrownBy(() -> new DiscoverEvent(Type.REMOVED, HEAVIER, NODE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("previous");
    }

    @Test
    void type_and_node_are_required() {
        assertThatThrownBy(() -> new DiscoverEvent(null, NODE, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("type");
        assertThatThrownBy(() -> DiscoverEvent.added(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("node");
    }
}
