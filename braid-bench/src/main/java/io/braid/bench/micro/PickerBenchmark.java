package io.braid.bench.micro;

import io.braid.api.Node;
import io.braid.rpc.internal.balance.SmoothWeightedPicker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Smooth weighted round robin (the pick of a call with a new token) over 3, 30 and 300 nodes of
 * mixed weights. {@code pick} is the bare algorithm; {@code pickEligible} picks the way the client
 * does, through a predicate per node, here a cheap one (ACTIVE, weight above zero). The client's own
 * predicate also looks up the node's ejection mark and GoAway state, which this does not count.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PickerBenchmark {
    @Param({"3", "30", "300"})
    public int nodes;

    private SmoothWeightedPicker picker;
    private Predicate<Node> eligible;

    @Setup
    public void setUp() {
        List<Node> list = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            list.add(Node.of("logic-" + i, "logic", "127.0.0.1", 7000 + i, 1 + (i % 5) * 25));
        }
        picker = SmoothWeightedPicker.of(list);
        eligible = node -> node.isActive() && node.weight() > 0;
    }

    @Benchmark
    public Node pick() {
        return picker.pick();
    }

    @Benchmark
    public Node pickEligible() {
        return picker.pick(eligible);
    }
}
