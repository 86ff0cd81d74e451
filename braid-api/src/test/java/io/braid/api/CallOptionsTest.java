package io.braid.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CallOptionsTest {

    private static final Duration SECOND = Duration.ofSeconds(1);
    private static final Duration HOUR = Duration.ofHours(1);

    @Test
    void default_has_no_timeout_no_deadline_no_metadata_and_is_not_idempotent() {
        assertThat(CallOptions.DEFAULT.timeout()).isNull();
        assertThat(CallOptions.DEFAULT.deadline()).isNull();
        assertThat(CallOptions.DEFAULT.idempotent()).isFalse();
        assertThat(CallOptions.DEFAULT.metadata()).isEmpty();
    }

    @Test
    void with_timeout_returns_a_copy_and_leaves_the_original_alone() {
        CallOptions changed = CallOptions.DEFAULT.withTimeout(SECOND);

        assertThat(changed).isNotSameAs(CallOptions.DEFAULT);
        assertThat(changed.timeout()).isEqualTo(SECOND);
        assertThat(CallOptions.DEFAULT.timeout()).isNull();
    }

    @Test
    void with_deadline_returns_a_copy_and_leaves_the_original_alone() {
        Deadline deadline = Deadline.after(SECOND);

        CallOptions changed = CallOptions.DEFAULT.withDeadline(deadline);

        assertThat(changed.deadline()).isSameAs(deadline);
        assertThat(CallOptions.DEFAULT.deadline()).isNull();
    }

    @Test
    void with_idempotent_returns_a_copy_and_leaves_the_original_alone() {
        CallOptions changed = CallOptions.DEFAULT.withIdempotent(true);

        assertThat(changed.idempotent()).isTrue();
        assertThat(CallOptions.DEFAULT.idempotent()).isFalse();
        assertThat(changed.withIdempotent(false).idempotent()).isFalse();
    }

    @Test
    void with_metadata_returns_a_copy_and_leaves_the_original_alone() {
        CallOptions one = CallOptions.DEFAULT.withMetadata("tenant", "acme");
        CallOptions two = one.withMetadata("trace", "abc");

        assertThat(CallOptions.DEFAULT.metadata()).isEmpty();
        assertThat(one.metadata()).containsExactly(Map.entry("tenant", "acme"));
        assertThat(two.metadata()).containsOnly(Map.entry("tenant", "acme"), Map.entry("trace", "abc"));
    }

    @Test
    void with_metadata_replaces_the_value_of_an_existing_key() {
        CallOptions options = CallOptions.DEFAULT.withMetadata("tenant", "acme").withMetadata("tenant", "globex");

        assertThat(options.metadata()).containsExactly(Map.entry("tenant", "globex"));
    }

    @Test
    void each_with_keeps_the_other_settings() {
        Deadline deadline = Deadline.after(HOUR);

        CallOptions options = CallOptions.DEFAULT
                .withTimeout(SECOND)
                .withDeadline(deadline)
                .withIdempotent(true)
                .withMetadata("tenant", "acme");

        assertThat(options.timeout()).isEqualTo(SECOND);
        assertThat(options.deadline()).isSameAs(deadline);
        assertThat(options.idempotent()).isTrue();
        assertThat(options.metadata()).containsExactly(Map.entry("tenant", "acme"));
    }

    @Test
    void metadata_cannot_be_changed_through_the_options() {
        CallOptions options = CallOptions.DEFAULT.withMetadata("tenant", "acme");

        assertThatThrownBy(() -> options.metadata().put("tenant", "globex"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> CallOptions.DEFAULT.metadata().put("tenant", "globex"))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"braid-", "braid-deadline", "braid-token"})
    void reserved_metadata_keys_are_refused_with_the_key(String key) {
        assertThatThrownBy(() -> CallOptions.DEFAULT.withMetadata(key, "v"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reserved")
                .hasMessageEndingWith(key);
    }

    @ParameterizedTest
    @ValueSource(strings = {"braid", "braidx", "x-braid-", "my-braid-key"})
    void keys_that_only_resemble_the_reserved_prefix_are_accepted(String key) {
        assertThat(CallOptions.DEFAULT.withMetadata(key, "v").metadata()).containsEntry(key, "v");
    }

    @Test
    void null_metadata_key_or_value_is_refused_by_name() {
        assertThatThrownBy(() -> CallOptions.DEFAULT.withMetadata(null, "v"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("key");
        assertThatThrownBy(() -> CallOptions.DEFAULT.withMetadata("k", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("value");
    }

    @Test
    void a_zero_or_negative_or_null_timeout_is_refused() {
        assertThatThrownBy(() -> CallOptions.DEFAULT.withTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive, was PT0S");
        assertThatThrownBy(() -> CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("timeout must be positive");
        assertThatThrownBy(() -> CallOptions.DEFAULT.withTimeout(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("timeout");
    }

    @Test
    void a_null_deadline_is_refused() {
        assertThatThrownBy(() -> CallOptions.DEFAULT.withDeadline(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("deadline");
    }

    @Test
    void effective_deadline_without_timeout_or_deadline_uses_the_default_timeout() {
        Deadline effective = CallOptions.DEFAULT.effectiveDeadline(SECOND);

        assertThat(effective.isExpired()).isFalse();
        assertThat(effective.remaining()).isLessThanOrEqualTo(SECOND);
    }

    @Test
    void effective_deadline_uses_the_calls_own_timeout_when_it_is_shorter_than_the_default() {
        Deadline effective = CallOptions.DEFAULT.withTimeout(SECOND).effectiveDeadline(HOUR);

        assertThat(effective.remaining()).isLessThanOrEqualTo(SECOND);
    }

    @Test
    void effective_deadline_uses_the_calls_own_timeout_even_when_it_is_longer_than_the_default() {
        // The default applies only when the call sets no timeout (see CallOptions.timeout()).
        Deadline effective = CallOptions.DEFAULT.withTimeout(HOUR).effectiveDeadline(SECOND);

        assertThat(effective.remaining()).isGreaterThan(Duration.ofMinutes(59));
    }

    @Test
    void effective_deadline_is_the_deadline_when_it_comes_before_the_timeout() {
        Deadline deadline = Deadline.after(SECOND);

        Deadline effective = CallOptions.DEFAULT.withTimeout(HOUR).withDeadline(deadline).effectiveDeadline(HOUR);

        assertThat(effective).isSameAs(deadline);
    }

    @Test
    void effective_deadline_is_the_timeout_when_it_comes_before_the_deadline() {
        Deadline deadline = Deadline.after(HOUR);

        Deadline effective = CallOptions.DEFAULT.withTimeout(SECOND).withDeadline(deadline).effectiveDeadline(HOUR);

        assertThat(effective).isNotSameAs(deadline);
        assertThat(effective.remaining()).isLessThanOrEqualTo(SECOND);
    }

    @Test
    void effective_deadline_with_only_a_deadline_is_capped_by_the_default_timeout() {
        Deadline far = Deadline.after(HOUR);
        Deadline near = Deadline.after(SECOND);

        Deadline cappedByDefault = CallOptions.DEFAULT.withDeadline(far).effectiveDeadline(SECOND);
        Deadline deadlineWins = CallOptions.DEFAULT.withDeadline(near).effectiveDeadline(HOUR);

        assertThat(cappedByDefault.remaining()).isLessThanOrEqualTo(SECOND);
        assertThat(deadlineWins).isSameAs(near);
    }

    @Test
    void effective_deadline_of_an_expired_deadline_is_expired() {
        Deadline effective = CallOptions.DEFAULT.withDeadline(Deadline.afterNanos(-1)).effectiveDeadline(HOUR);

        assertThat(effective.isExpired()).isTrue();
    }
}
