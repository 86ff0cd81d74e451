package io.braid.rpc.internal.lane;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Ticker;
import io.braid.api.internal.LaneListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What the lanes tell their {@link LaneListener}, under a ticker moved by hand and an executor
 * that runs tasks when the test says: the pieces ahead at each entry, each turn's wait and run,
 * and nothing at all, not even a clock read, with {@link LaneListener#NONE}.
 */
class LaneListenerTest {
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - 1_000); // wait and run cross the overflow
    private final AtomicInteger reads = new AtomicInteger();
    private final Ticker ticker = () -> {
        reads.incrementAndGet();
        return now.get();
    };
    /** Tasks handed to the "executor", run by the test. */
    private final List<Runnable> queued = new CopyOnWriteArrayList<>();
    private final Executor executor = queued::add;

    private final List<Integer> entries = new CopyOnWriteArrayList<>();
    private final List<String> turns = new CopyOnWriteArrayList<>();
    private final LaneListener listener = new LaneListener() {
        @Override
        public void entered(int ahead) {
            entries.add(ahead);
        }

        @Override
        public void turnEnded(String token, long waitNanos, long runNanos, boolean call) {
            turns.add(token + " wait " + waitNanos + " run " + runNanos + (call ? " call" : " task"));
        }
    };

    private void runNext() {
        queued.removeFirst().run();
    }

    @Test
    void eachEntryTellsThePiecesAheadAndEachTurnItsWaitAndRun() {
        Lanes lanes = new Lanes(8, listener, ticker);
        LaneTask first = new LaneTask(() -> now.addAndGet(700), executor); // runs 700 ns
        LaneTask second = new LaneTask(() -> now.addAndGet(300), executor);
        LaneTask third = new LaneTask(() -> { }, executor);
        assertThat(lanes.enter("p1", first)).isTrue();
        first.takeTurn();
        now.addAndGet(100);
        assertThat(lanes.enter("p1", second)).isFalse();
        now.addAndGet(100);
        assertThat(lanes.enter("p1", third)).isFalse();
        assertThat(entries).containsExactly(0, 1, 2);

        now.addAndGet(50); // the first waits 50 ns for its thread
        runNext(); // first: 700 ns; hands the turn to second
        runNext(); // second: entered 100 ns after the first, started 950 ns after it
        runNext();
        assertThat(turns).containsExactly("p1 wait 250 run 700 task", "p1 wait 850 run 300 task",
                "p1 wait 1050 run 0 task");
        assertThat(lanes.size()).isZero();
    }

    @Test
    void aPieceWithdrawnWhileWaitingIsToldAsLeftUnrun() {
        List<Long> left = new CopyOnWriteArrayList<>();
        Lanes lanes = new Lanes(8, new LaneListener() {
            @Override
            public void leftUnrun(long waitNanos) {
                left.add(waitNanos);
            }
        }, ticker);
        LaneTask holder = new LaneTask(() -> { }, executor);
        LaneTask waiter = new LaneTask(() -> { }, executor);
        lanes.enter("p1", holder);
        lanes.enter("p1", waiter);
        long entered = now.get();
        now.addAndGet(400);
        Lane lane = lanes.laneOf("p1");
        assertThat(lane.withdraw(waiter, entered)).isTrue();
        assertThat(lane.withdraw(waiter, entered)).isFalse(); // told once
        assertThat(left).containsExactly(400L);
    }

    @Test
    void withoutAListenerNoClockIsRead() {
        Lanes lanes = new Lanes(8, LaneListener.NONE, ticker);
        LaneTask first = new LaneTask(() -> { }, executor);
        LaneTask second = new LaneTask(() -> { }, executor);
        lanes.enter("p1", first);
        first.takeTurn();
        lanes.enter("p1", second);
        runNext();
        runNext();
        assertThat(first.done()).isCompleted();
        assertThat(second.done()).isCompleted();
        assertThat(reads).hasValue(0);
    }
}
