package io.braid.api;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DeadlineTest {

    private static final Duration TEN_SECONDS = Duration.ofSeconds(10);

    @Test
    void after_refuses_a_zero_or_negative_timeout() {
        assertThatThrownBy(() -> Deadline.after(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive, was PT0S");
        assertThatThrownBy(() -> Deadline.after(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("timeout must be positive");
    }

    @Test
    void a_fresh_deadline_has_at_most_its_timeout_left() {
        Deadline deadline = Deadline.after(TEN_SECONDS);

        assertThat(deadline.isExpired()).isFalse();
        assertThat(deadline.remainingNanos()).isPositive().isLessThanOrEqualTo(TEN_SECONDS.toNanos());
        assertThat(deadline.remaining()).isPositive().isLessThanOrEqualTo(TEN_SECONDS);
        // Rounded up: never more than the timeout, and a deadline far off is not 0 ms away.
        assertThat(deadline.remainingMillis()).isBetween(1L, TEN_SECONDS.toMillis());
    }

    @Test
    void remaining_time_shrinks_as_the_clock_moves() {
        Deadline deadline = Deadline.after(TEN_SECONDS);
        long first = deadline.remainingNanos();

        waitForTheClockToTick();

        assertThat(deadline.remainingNanos()).isLessThan(first);
    }

    @Test
    void a_deadline_in_the_past_is_expired_with_nothing_left() {
        Deadline expired = Deadline.afterNanos(-1);

        assertThat(expired.isExpired()).isTrue();
        assertThat(expired.remainingNanos()).isNegative();
        assertThat(expired.remaining()).isEqualTo(Duration.ZERO);
        assertThat(expired.remainingMillis()).isZero();
    }

    @Test
    void a_deadline_of_now_is_expired() {
        assertThat(Deadline.afterNanos(0).isExpired()).isTrue();
    }

    @Test
    void a_deadline_a_few_nanoseconds_off_rounds_up_to_at_most_one_millisecond() {
        assertThat(Deadline.afterNanos(1_000).remainingMillis()).isBetween(0L, 1L);
    }

    @Test
    void a_timeout_too_large_for_nanoseconds_saturates_instead_of_failing() {
        Deadline far = Deadline.after(Duration.ofSeconds(Long.MAX_VALUE));

        assertThat(far.isExpired()).isFalse();
        assertThat(far.compareTo(Deadline.after(Duration.ofDays(365)))).isPositive();
    }

    @Test
    void compare_to_orders_earlier_before_later() {
        Deadline early = Deadline.afterNanos(-1_000_000);
        Deadline middle = Deadline.after(Duration.ofSeconds(1));
        Deadline late = Deadline.after(Duration.ofHours(1));

        assertThat(early.compareTo(late)).isNegative();
        assertThat(late.compareTo(early)).isPositive();
        assertThat(middle.compareTo(middle)).isZero();

        List<Deadline> deadlines = new ArrayList<>(List.of(late, early, middle));
        Collections.sort(deadlines);
        assertThat(deadlines).containsExactly(early, middle, late);
    }

    @Test
    void min_picks_the_earlier_deadline_either_way_round() {
        Deadline early = Deadline.after(Duration.ofSeconds(1));
        Deadline late = Deadline.after(Duration.ofHours(1));

        assertThat(early.min(late)).isSameAs(early);
        assertThat(late.min(early)).isSameAs(early);
        assertThat(early.min(early)).isSameAs(early);
    }

    @Test
    void min_with_null_is_the_deadline_itself() {
        Deadline deadline = Deadline.after(TEN_SECONDS);

        assertThat(deadline.min(null)).isSameAs(deadline);
    }

    @Test
    void to_string_shows_the_time_left() {
        assertThat(Deadline.afterNanos(-1)).hasToString("Deadline{remaining=PT0S}");
    }

    /** A ticker moved by hand, starting near the top of the long range so that the sums wrap. */
    private static final class ManualTicker implements Ticker {
        private long now = Long.MAX_VALUE - 1_000;

        @Override
        public long read() {
            return now;
        }

        void advance(Duration by) {
            now += by.toNanos();
        }
    }

    @Test
    void a_deadline_on_a_ticker_expires_when_that_ticker_moves_past_it_and_not_before() {
        ManualTicker ticker = new ManualTicker();
        Deadline deadline = Deadline.after(Duration.ofMillis(100), ticker);

        assertThat(deadline.remainingNanos()).isEqualTo(Duration.ofMillis(100).toNanos());
        ticker.advance(Duration.ofMillis(99));
        assertThat(deadline.isExpired()).isFalse();
        assertThat(deadline.remainingMillis()).isEqualTo(1);
        ticker.advance(Duration.ofMillis(1));
        assertThat(deadline.isExpired()).isTrue();
        assertThat(deadline.remaining()).isZero();
    }

    @Test
    void deadlines_on_one_ticker_compare_across_its_wrap_around() {
        ManualTicker ticker = new ManualTicker();
        Deadline early = Deadline.afterNanos(500, ticker);       // before the ticker's value wraps
        Deadline late = Deadline.after(Duration.ofSeconds(1), ticker); // after it

        assertThat(early).isLessThan(late);
        assertThat(late.min(early)).isSameAs(early);
    }

    @Test
    void after_with_a_ticker_refuses_a_zero_timeout_and_a_null_ticker() {
        assertThatThrownBy(() -> Deadline.after(Duration.ZERO, new ManualTicker()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive, was PT0S");
        assertThatThrownBy(() -> Deadline.after(Duration.ofSeconds(1), null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("ticker");
    }

    /** Spins (no sleep) until {@link System#nanoTime()} has moved past its value on entry. */
    private static void waitForTheClockToTick() {
        long mark = System.nanoTime();
        while (System.nanoTime() == mark) {
            Thread.onSpinWait();
        }
    }
}
