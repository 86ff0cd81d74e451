package io.braid.bench.lanes;

import io.braid.api.BraidException;
import io.braid.rpc.internal.lane.Lane;
import io.braid.rpc.internal.lane.LaneWork;
import io.braid.rpc.internal.lane.Lanes;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * Heap a lane costs while it has work, measured in this JVM: the used heap after a full GC, before
 * and after {@code count} tokens each get a lane holding one piece that never ends (and, in the
 * second figure, one more waiting behind it), divided by {@code count}. The token strings exist
 * before the first reading (a request brings its token anyway). An idle lane is removed, so it
 * costs nothing; these are the figures of a lane in use.
 */
final class LaneHeap {
    /** Work that holds its turn until the measurement drops the lanes. */
    private static final LaneWork STAYS = new LaneWork() {
        @Override
        public void enteredLane(Lane lane) {
        }

        @Override
        public void takeTurn() {
        }

        @Override
        public void refuse(BraidException why) {
        }
    };

    /** Bytes per lane: [0] with one piece running, [1] with one running and one waiting. */
    static double[] bytesPerLane(int count) {
        String[] tokens = new String[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = "player-" + i;
        }
        double[] figures = new double[2];
        for (int waiting = 0; waiting <= 1; waiting++) {
            long before = usedAfterGc();
            Lanes lanes = new Lanes(256);
            for (String token : tokens) {
                for (int piece = 0; piece <= waiting; piece++) {
                    lanes.enter(token, STAYS);
                }
            }
            long after = usedAfterGc();
            if (lanes.size() != count) {
                throw new IllegalStateException("expected " + count + " lanes, found " + lanes.size());
            }
            figures[waiting] = (after - before) / (double) count;
            java.lang.ref.Reference.reachabilityFence(lanes);
        }
        java.lang.ref.Reference.reachabilityFence(tokens);
        return figures;
    }

    private static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
