package io.braid.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageTest {

    private static final byte[] BODY = "hello".getBytes(StandardCharsets.UTF_8);

    @Test
    void a_first_delivery_has_count_one() {
        Message message = new Message("1-0", "orders", Map.of(), BODY, 1);

        assertThat(message.deliveryCount()).isEqualTo(1);
        assertThat(message.id()).isEqualTo("1-0");
        assertThat(message.topic()).isEqualTo("orders");
        assertThat(message.body()).isSameAs(BODY);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void a_delivery_count_below_one_is_refused_with_its_value(int deliveryCount) {
        assertThatThrownBy(() -> new Message("1-0", "orders", Map.of(), BODY, deliveryCount))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("deliveryCount must be at least 1, was " + deliveryCount);
    }

    @Test
    void headers_are_copied_so_later_changes_to_the_source_do_not_leak_in() {
        Map<String, String> source = new HashMap<>();
        source.put("content-type", "json");

        Message message = new Message("1-0", "orders", source, BODY, 2);
        source.put("content-type", "proto");
        source.put("extra", "x");

        assertThat(message.headers()).containsExactly(Map.entry("content-type", "json"));
    }

    @Test
    void headers_cannot_be_changed_through_the_message() {
        Message message = new Message("1-0", "orders", Map.of("content-type", "json"), BODY, 1);

        assertThatThrownBy(() -> message.headers().put("content-type", "proto"))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void id_topic_headers_and_body_are_required_by_name() {
        assertThatThrownBy(() -> new Message(null, "orders", Map.of(), BODY, 1))
                .isInstanceOf(NullPointerException.class).hasMessage("id");
        assertThatThrownBy(() -> new Message("1-0", null, Map.of(), BODY, 1))
                .isInstanceOf(NullPointerException.class).hasMessage("topic");
        assertThatThrownBy(() -> new Message("1-0", "orders", null, BODY, 1))
                .isInstanceOf(NullPointerException.class).hasMessage("headers");
        assertThatThrownBy(() -> new Message("1-0", "orders", Map.of(), null, 1))
                .isInstanceOf(NullPointerException.class).hasMessage("body");
    }
}
