package io.braid.api;

import io.braid.api.ChannelOptions.StartPosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChannelOptionsTest {

    @Test
    void defaults_are_latest_in_order_thirty_seconds_five_deliveries_durable() {
        ChannelOptions options = ChannelOptions.DEFAULT;

        assertThat(options.startAt()).isEqualTo(StartPosition.LATEST);
        assertThat(options.concurrency()).isEqualTo(1);
        assertThat(options.redeliverAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(options.maxDeliveries()).isEqualTo(5);
        assertThat(options.durable()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 1025, Integer.MAX_VALUE})
    void concurrency_outside_1_to_1024_is_refused_with_its_value(int concurrency) {
        assertThatThrownBy(() -> ChannelOptions.DEFAULT.withConcurrency(concurrency))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("concurrency must be in 1..1024, was " + concurrency);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 1024})
    void the_concurrency_bounds_are_accepted(int concurrency) {
        assertThat(ChannelOptions.DEFAULT.withConcurrency(concurrency).concurrency()).isEqualTo(concurrency);
    }

    @Test
    void redeliver_after_below_one_millisecond_is_refused_with_its_value() {
        assertThatThrownBy(() -> ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("redeliverAfter must be at least 1 ms, was PT0S");
        assertThatThrownBy(() -> ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofNanos(999_999)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("redeliverAfter must be at least 1 ms");
        assertThatThrownBy(() -> ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofSeconds(-30)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("redeliverAfter must be at least 1 ms");
    }

    @Test
    void redeliver_after_of_one_millisecond_is_accepted() {
        assertThat(ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMillis(1)).redeliverAfter())
                .isEqualTo(Duration.ofMillis(1));
    }

    @Test
    void a_null_redeliver_after_or_start_position_is_refused_by_name() {
        assertThatThrownBy(() -> ChannelOptions.DEFAULT.withRedeliverAfter(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("redeliverAfter");
        assertThatThrownBy(() -> ChannelOptions.DEFAULT.withStartAt(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("startAt");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void max_deliveries_below_one_is_refused_with_its_value(int maxDeliveries) {
        assertThatThrownBy(() -> ChannelOptions.DEFAULT.withMaxDeliveries(maxDeliveries))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxDeliveries must be at least 1, was " + maxDeliveries);
    }

    @Test
    void max_deliveries_of_one_is_accepted() {
        assertThat(ChannelOptions.DEFAULT.withMaxDeliveries(1).maxDeliveries()).isEqualTo(1);
    }

    @Test
    void each_with_returns_a_copy_and_leaves_the_default_alone() {
        ChannelOptions changed = ChannelOptions.DEFAULT
                .withStartAt(StartPosition.EARLIEST)
                .withConcurrency(8)
                .withRedeliverAfter(Duration.ofSeconds(5))
                .withMaxDeliveries(3)
                .withDurable(false);

        assertThat(changed).isNotSameAs(ChannelOptions.DEFAULT);
        assertThat(changed.startAt()).isEqualTo(StartPosition.EARLIEST);
        assertThat(changed.concurrency()).isEqualTo(8);
        assertThat(changed.redeliverAfter()).isEqualTo(Duration.ofSeconds(5));
        assertThat(changed.maxDeliveries()).isEqualTo(3);
        assertThat(changed.durable()).isFalse();

        assertThat(ChannelOptions.DEFAULT.startAt()).isEqualTo(StartPosition.LATEST);
        assertThat(ChannelOptions.DEFAULT.concurrency()).isEqualTo(1);
        assertThat(ChannelOptions.DEFAULT.redeliverAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(ChannelOptions.DEFAULT.maxDeliveries()).isEqualTo(5);
        assertThat(ChannelOptions.DEFAULT.durable()).isTrue();
    }

    @Test
    void a_refused_setting_leaves_the_options_it_was_called_on_unchanged() {
        ChannelOptions options = ChannelOptions.DEFAULT.withConcurrency(4);

        assertThatThrownBy(() -> options.withConcurrency(0)).isInstanceOf(IllegalArgumentException.class);

        assertThat(options.concurrency()).isEqualTo(4);
    }

    @Test
    void to_string_names_every_setting() {
        assertThat(ChannelOptions.DEFAULT.toString())
                .contains("startAt=LATEST", "concurrency=1", "redeliverAfter=PT30S", "maxDeliveries=5",
                        "durable=true");
    }
}
