package io.braid.rpc.internal.balance;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EjectionMarksTest {

    private static final Duration BASE = Duration.ofSeconds(1);
    private static final Duration MAX = Duration.ofSeconds(5);
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    /** Starts just below the wrap-around point, so every test also checks the difference arithmetic. */
    private final AtomicLong clock = new AtomicLong(Long.MAX_VALUE - 2 * SECOND);
    private final EjectionMarks marks = new EjectionMarks(3, BASE, MAX, clock::get);

    @Test
    void a_node_is_not_ejected_before_the_threshold_and_is_ejected_at_it() {
        marks.markFailure("n1");
        marks.markFailure("n1");
        assertThat(marks.isEjected("n1")).isFalse();

        marks.markFailure("n1");

        assertThat(marks.isEjected("n1")).isTrue();
        assertThat(marks.isEjected("n2")).as("other nodes are not affected").isFalse();
    }

    @Test
    void a_success_between_failures_restarts_the_count() {
        marks.markFailure("n1");
        marks.markFailure("n1");
        marks.markSuccess("n1");
        marks.markFailure("n1");
        marks.markFailure("n1");

        assertThat(marks.isEjected("n1")).isFalse();
        marks.markFailure("n1");
        assertThat(marks.isEjected("n1")).isTrue();
    }

    @Test
    void an_ejected_node_comes_back_when_the_base_backoff_ends() {
        eject("n1");

        advance(SECOND - 1);
        assertThat(marks.isEjected("n1")).isTrue();
        advance(1);
        assertThat(marks.isEjected("n1")).isFalse();
    }

    @Test
    void failures_while_ejected_do_not_extend_the_ejection() {
        eject("n1");
        advance(SECOND / 2);
        for (int i = 0; i < 10; i++) {
            marks.markFailure("n1");
        }

        advance(SECOND / 2);

        assertThat(marks.isEjected("n1")).isFalse();
    }

    @Test
    void one_failure_on_probation_ejects_again_for_double_the_time_up_to_the_cap() {
        eject("n1");
        long[] expectedSeconds = {1, 2, 4, 5, 5, 5};

        for (int ejection = 0; ejection < expectedSeconds.length; ejection++) {
            if (ejection > 0) {
                marks.markFailure("n1");
            }
            long backoff = expectedSeconds[ejection] * SECOND;
            assertThat(marks.isEjected("n1")).as("ejection %d starts", ejection + 1).isTrue();
            advance(backoff - 1);
            assertThat(marks.isEjected("n1")).as("ejection %d still on", ejection + 1).isTrue();
            advance(1);
            assertThat(marks.isEjected("n1")).as("ejection %d over", ejection + 1).isFalse();
        }
    }

    @Test
    void a_success_on_probation_clears_everything() {
        eject("n1");
        advance(SECOND);
        marks.markFailure("n1");
        advance(2 * SECOND);

        marks.markSuccess("n1");

        // Healthy again: one failure is not enough, and the next ejection is back to the base.
        marks.markFailure("n1");
        assertThat(marks.isEjected("n1")).isFalse();
        marks.markFailure("n1");
        marks.markFailure("n1");
        assertThat(marks.isEjected("n1")).isTrue();
        advance(SECOND);
        assertThat(marks.isEjected("n1")).isFalse();
        assertThat(marks.trackedNodes()).isEqualTo(1);
    }

    @Test
    void a_success_while_ejected_lets_the_node_back_at_once() {
        eject("n1");

        marks.markSuccess("n1");

        assertThat(marks.isEjected("n1")).isFalse();
        assertThat(marks.trackedNodes()).isZero();
    }

    @Test
    void forget_clears_ejection_and_failure_count() {
        eject("n1");
        marks.markFailure("n2");
        marks.markFailure("n2");

        marks.forget("n1");
        marks.forget("n2");

        assertThat(marks.isEjected("n1")).isFalse();
        assertThat(marks.trackedNodes()).isZero();
        marks.markFailure("n2");
        assertThat(marks.isEjected("n2")).as("the earlier failures were forgotten").isFalse();
    }

    @Test
    void one_failure_is_enough_when_the_threshold_is_one() {
        EjectionMarks strict = new EjectionMarks(1, BASE, BASE, clock::get);

        strict.markFailure("n1");

        assertThat(strict.isEjected("n1")).isTrue();
    }

    @Test
    void the_backoff_never_overflows_however_often_a_node_is_ejected() {
        Duration longest = Duration.ofNanos(Long.MAX_VALUE);
        EjectionMarks patient = new EjectionMarks(1, BASE, longest, clock::get);
        patient.markFailure("n1");

        for (int ejection = 1; ejection <= 80; ejection++) {
            if (ejection > 1) {
                patient.markFailure("n1");
            }
            long expected = BigInteger.valueOf(SECOND).shiftLeft(ejection - 1)
                    .min(BigInteger.valueOf(Long.MAX_VALUE)).longValueExact();
            advance(expected - 1);
            assertThat(patient.isEjected("n1")).as("ejection %d still on", ejection).isTrue();
            advance(1);
            assertThat(patient.isEjected("n1")).as("ejection %d over", ejection).isFalse();
        }
    }

    @Test
    void the_ejected_count_behind_the_fast_path_follows_every_transition() {
        assertThat(marks.ejectedOrOnProbation()).isZero();
        marks.markFailure("n2");
        assertThat(marks.ejectedOrOnProbation()).as("a failure alone does not count").isZero();

        eject("n1");
        assertThat(marks.ejectedOrOnProbation()).isOne();
        advance(SECOND);
        marks.markFailure("n1");
        assertThat(marks.ejectedOrOnProbation()).as("re-ejection is the same node").isOne();
        marks.markSuccess("n1");
        assertThat(marks.ejectedOrOnProbation()).isZero();
        assertThat(marks.isEjected("n2")).isFalse();

        eject("n1");
        marks.forget("n1");
        marks.forget("n1");
        assertThat(marks.ejectedOrOnProbation()).isZero();
        assertThat(marks.trackedNodes()).as("n2's failure is still counted").isOne();
    }

    @Test
    void concurrent_marks_keep_the_ejected_count_exact() throws Exception {
        EjectionMarks shared = new EjectionMarks(2, BASE, MAX, clock::get);
        String[] ids = {"n0", "n1", "n2", "n3", "n4"};
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < 50_000; i++) {
                        String id = ids[random.nextInt(ids.length)];
                        switch (random.nextInt(8)) {
                            case 0 -> shared.markSuccess(id);
                            case 1 -> shared.forget(id);
                            case 2 -> advance(SECOND / 4);
                            default -> shared.markFailure(id);
                        }
                        shared.isEjected(id);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> result : results) {
                result.get(60, TimeUnit.SECONDS);
            }

            assertThat(shared.ejectedOrOnProbation()).isEqualTo(shared.recountEjectedOrOnProbation());
            for (String id : ids) {
                shared.markSuccess(id);
            }
            assertThat(shared.ejectedOrOnProbation()).isZero();
            assertThat(shared.trackedNodes()).isZero();
            shared.markFailure("n0");
            shared.markFailure("n0");
            assertThat(shared.ejectedOrOnProbation()).isOne();
            assertThat(shared.isEjected("n0")).isTrue();
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void arguments_are_validated_with_the_parameter_named() {
        assertThatThrownBy(() -> new EjectionMarks(0, BASE, MAX, clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("failuresToEject");
        assertThatThrownBy(() -> new EjectionMarks(3, Duration.ZERO, MAX, clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseBackoff");
        assertThatThrownBy(() -> new EjectionMarks(3, Duration.ofSeconds(-1), MAX, clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseBackoff");
        assertThatThrownBy(() -> new EjectionMarks(3, MAX, BASE, clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> new EjectionMarks(3, BASE, Duration.ofDays(365L * 1_000), clock::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> new EjectionMarks(3, null, MAX, clock::get))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("baseBackoff");
        assertThatThrownBy(() -> new EjectionMarks(3, BASE, MAX, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("nanoClock");
    }

    private void eject(String nodeId) {
        for (int i = 0; i < 3; i++) {
            marks.markFailure(nodeId);
        }
        assertThat(marks.isEjected(nodeId)).isTrue();
    }

    private void advance(long nanos) {
        clock.addAndGet(nanos);
    }
}
