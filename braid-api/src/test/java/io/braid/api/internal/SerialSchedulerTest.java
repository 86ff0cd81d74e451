package io.braid.api.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SerialSchedulerTest {
    @Test
    void tasksOnASharedSchedulerNeverOverlapAndRunInOrder() throws Exception {
        ScheduledExecutorService shared = Executors.newScheduledThreadPool(4);
        try (SerialScheduler loop = SerialScheduler.borrowing(shared)) {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            List<Integer> order = new ArrayList<>(); // touched by the loop only
            CountDownLatch done = new CountDownLatch(1000);
            for (int i = 0; i < 1000; i++) {
                int n = i;
                loop.execute(() -> {
                    if (inside.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    assertThat(loop.inLoop()).isTrue();
                    order.add(n);
                    inside.decrementAndGet();
                    done.countDown();
                });
                shared.execute(() -> { }); // other work on the same threads meanwhile
            }
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(overlaps).hasValue(0);
            CountDownLatch read = new CountDownLatch(1);
            List<Integer> seen = new ArrayList<>();
            loop.execute(() -> {
                seen.addAll(order);
                read.countDown();
            });
            assertThat(read.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(seen).hasSize(1000).isSorted();
            assertThat(loop.inLoop()).isFalse();
        } finally {
            shared.shutdownNow();
        }
    }

    @Test
    void everyTimedTaskRunsEvenWhenItsTimerFiresBeforeScheduleReturns() throws Exception {
        ScheduledExecutorService shared = Executors.newScheduledThreadPool(4);
        try (SerialScheduler loop = SerialScheduler.borrowing(shared)) {
            CountDownLatch ran = new CountDownLatch(2000);
            for (int i = 0; i < 1000; i++) {
                loop.schedule(ran::countDown, 0, TimeUnit.NANOSECONDS);
                loop.scheduleWithFixedDelay(new Runnable() {
                    private boolean once;

                    @Override
                    public void run() {
                        if (!once) {
                            once = true;
                            ran.countDown();
                        }
                    }
                }, 0, 1, TimeUnit.HOURS);
            }
            assertThat(ran.await(10, TimeUnit.SECONDS)).as("timed tasks that ran, of 2000").isTrue();
        } finally {
            shared.shutdownNow();
        }
    }

    @Test
    void closingABorrowingLoopStopsItsTasksButLeavesTheSchedulerToItsOwner() throws Exception {
        ScheduledExecutorService shared = Executors.newScheduledThreadPool(1);
        try {
            SerialScheduler loop = SerialScheduler.borrowing(shared);
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch twice = new CountDownLatch(2);
            loop.scheduleWithFixedDelay(() -> {
                runs.incrementAndGet();
                twice.countDown();
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThat(twice.await(10, TimeUnit.SECONDS)).isTrue();

            loop.close();
            int afterClose = runs.get();

            assertThatThrownBy(() -> loop.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
            assertThat(shared.isShutdown()).isFalse();
            // The repeating task is gone: a task queued behind its would-be next run sees no new run.
            CountDownLatch later = new CountDownLatch(1);
            shared.schedule(later::countDown, 20, TimeUnit.MILLISECONDS);
            assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(runs).hasValue(afterClose);
        } finally {
            shared.shutdownNow();
        }
    }

    @Test
    void anOwningLoopShutsItsOwnThreadDownOnClose() throws Exception {
        List<Thread> made = new ArrayList<>();
        SerialScheduler loop = SerialScheduler.owning(task -> {
            Thread thread = new Thread(task, "serial-test");
            made.add(thread);
            return thread;
        });
        CountDownLatch ran = new CountDownLatch(1);
        loop.execute(ran::countDown);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();

        loop.close();

        assertThat(made).hasSize(1);
        made.get(0).join(TimeUnit.SECONDS.toMillis(10));
        assertThat(made.get(0).isAlive()).isFalse();
    }

    @Test
    void aFailingTaskDoesNotStopTheLoop() throws Exception {
        try (SerialScheduler loop = SerialScheduler.owning(task -> {
            Thread thread = new Thread(task);
            thread.setUncaughtExceptionHandler((t, e) -> { });
            return thread;
        })) {
            CountDownLatch after = new CountDownLatch(1);
            loop.execute(() -> {
                throw new IllegalStateException("boom");
            });
            loop.execute(after::countDown);
            assertThat(after.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
