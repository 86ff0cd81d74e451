package io.braid.rpc.internal.balance;

import io.braid.api.Node;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Smooth weighted round robin over one snapshot of a service's nodes, as nginx does it.
 *
 * <p><b>Internal:</b> part of braid-rpc's implementation; public only so that
 * {@code io.braid.rpc.internal} (the client's node picker) can use it. It may change without notice.
 *
 * <p>Each pick adds every eligible node's weight to its <em>current</em> weight, chooses the
 * eligible node whose current weight is largest (on a tie, the earliest in {@link #nodes()} order)
 * and subtracts the sum of the eligible weights from the chosen node's current weight. From a fresh
 * picker with all nodes eligible, each cycle of {@code sum(weights)} picks chooses every node
 * exactly {@code weight} times, spread out: weights 4, 2, 1 for A, B, C give
 * {@code A B A C A B A}, again and again.
 *
 * <p>Rules:
 * <ul>
 *   <li>A node with weight zero is never picked.</li>
 *   <li>The picker does not look at {@link Node#state()}: a caller that must skip DRAINING nodes
 *       says so in the predicate of {@link #pick(Predicate)}.</li>
 *   <li>A node failing the predicate is left out of that pick entirely: its current weight does
 *       not grow, so it does not catch up in a burst when it becomes eligible again.</li>
 * </ul>
 *
 * <p><b>Membership changes.</b> The node list is fixed for the life of a picker. When discovery
 * reports a change, build the next picker with {@link #update(List)} and publish it (for example
 * through a {@code volatile} field or an {@code AtomicReference}); the new picker carries over the
 * current weights of the node ids present in both, so a weight change, a join or a leave does not
 * restart the rotation of the others. The shares stay exact in the long run; cycles with exact
 * counts resume at once or after a few cycles, depending on where the change caught the rotation.
 * Threads still picking from the old picker keep working on its own state until they see the new
 * one.
 *
 * <p><b>Threading.</b> Safe for concurrent use. The current weights are guarded by one lock held
 * only for the arithmetic of a single pick (a few nanoseconds per node, never across I/O or user
 * code); the eligibility predicate runs before the lock is taken. Picks are linearizable, so the
 * exact per-cycle counts hold across threads as well. {@link #pick()} allocates nothing;
 * {@link #pick(Predicate)} allocates nothing for up to 64 nodes (beyond that, one small bit set).
 */
public final class SmoothWeightedPicker {

    private static final int MASK_WORD_BITS = Long.SIZE;

    private final List<Node> nodes;
    private final Node[] nodeArray;
    private final long[] weights;
    /** The sum of all weights: what a pick among all nodes subtracts from the chosen one. */
    private final long totalWeight;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    private final long[] currentWeights;

    private SmoothWeightedPicker(List<Node> nodes, long[] currentWeights) {
        this.nodes = nodes;
        this.nodeArray = nodes.toArray(new Node[0]);
        this.weights = new long[nodeArray.length];
        long total = 0;
        for (int i = 0; i < nodeArray.length; i++) {
            weights[i] = nodeArray[i].weight();
            total += weights[i];
        }
        this.totalWeight = total;
        this.currentWeights = currentWeights;
    }

    private static int wordCount(int nodeCount) {
        return (nodeCount + MASK_WORD_BITS - 1) / MASK_WORD_BITS;
    }

    /**
     * A picker over {@code nodes}, in the given order, with every current weight at zero.
     *
     * @param nodes the nodes; may be empty, must not contain null or two nodes with the same id
     * @throws IllegalArgumentException if two nodes share an id
     * @throws NullPointerException     if {@code nodes} or one of its elements is null
     */
    public static SmoothWeightedPicker of(List<Node> nodes) {
        List<Node> copy = copyWithUniqueIds(nodes);
        return new SmoothWeightedPicker(copy, new long[copy.size()]);
    }

    /**
     * A new picker over {@code newNodes} that continues this picker's rotation.
     *
     * <p>A node whose id is in both lists keeps its current weight (shifted by the same amount as
     * every other surviving node, which changes no choice among them) and takes its new weight and
     * other fields from {@code newNodes}. A node new to the list starts at the average current
     * weight of the survivors, i.e. neither ahead nor behind them. Nodes missing from
     * {@code newNodes} are dropped. This picker is not changed and stays usable.
     *
     * @param newNodes the new membership, same rules as {@link #of(List)}
     * @throws IllegalArgumentException if two nodes share an id
     * @throws NullPointerException     if {@code newNodes} or one of its elements is null
     */
    public SmoothWeightedPicker update(List<Node> newNodes) {
        List<Node> copy = copyWithUniqueIds(newNodes);
        Map<String, Integer> oldIndex = new HashMap<>();
        for (int i = 0; i < nodeArray.length; i++) {
            oldIndex.put(nodeArray[i].id(), i);
        }
        long[] oldCurrent;
        lock.lock();
        try {
            oldCurrent = currentWeights.clone();
        } finally {
            lock.unlock();
        }

        long[] newCurrent = new long[copy.size()];
        boolean[] survived = new boolean[copy.size()];
        long sum = 0;
        int survivors = 0;
        for (int i = 0; i < newCurrent.length; i++) {
            Integer old = oldIndex.get(copy.get(i).id());
            if (old != null) {
                newCurrent[i] = oldCurrent[old];
                survived[i] = true;
                sum += newCurrent[i];
                survivors++;
            }
        }
        // Re-centre the survivors on zero so that a newcomer (which starts at zero) lands on their
        // average, and so that the sum of current weights stays in [0, survivors) instead of
        // drifting with every leave.
        long shift = survivors == 0 ? 0 : Math.floorDiv(sum, survivors);
        for (int i = 0; i < newCurrent.length; i++) {
            if (survived[i]) {
                newCurrent[i] -= shift;
            }
        }
        return new SmoothWeightedPicker(copy, newCurrent);
    }

    /** The nodes of this snapshot, in pick order; immutable. */
    public List<Node> nodes() {
        return nodes;
    }

    /**
     * Picks among all nodes with a positive weight.
     *
     * @return the chosen node, or null if there is no node with a positive weight
     */
    public Node pick() {
        if (totalWeight == 0) {
            return null;
        }
        long[] current = currentWeights;
        long[] weight = weights;
        lock.lock();
        try {
            // One pass: grow every current weight (a weight of zero adds nothing) and keep the
            // largest. Current weights stay within a few total weights of zero, so the first
            // candidate always beats Long.MIN_VALUE and sets best. Strictly greater: on a tie the
            // earlier node wins.
            int best = 0;
            long bestCurrent = Long.MIN_VALUE;
            for (int i = 0; i < current.length; i++) {
                long grown = current[i] + weight[i];
                current[i] = grown;
                if (grown > bestCurrent && weight[i] != 0) {
                    best = i;
                    bestCurrent = grown;
                }
            }
            current[best] = bestCurrent - totalWeight;
            return nodeArray[best];
        } finally {
            lock.unlock();
        }
    }

    /**
     * Picks among the nodes with a positive weight that {@code eligible} accepts.
     *
     * <p>The predicate is called once per node with a positive weight, before the lock is taken and
     * from the calling thread; it should be cheap and must not block.
     *
     * @param eligible which nodes may be chosen for this pick
     * @return the chosen node, or null if no node is eligible
     */
    public Node pick(Predicate<Node> eligible) {
        Objects.requireNonNull(eligible, "eligible");
        int n = nodeArray.length;
        if (n <= MASK_WORD_BITS) {
            long mask = 0;
            for (int i = 0; i < n; i++) {
                if (weights[i] != 0 && eligible.test(nodeArray[i])) {
                    mask |= 1L << i;
                }
            }
            return mask == 0 ? null : pickAmong(mask, null);
        }
        long[] masks = new long[wordCount(n)];
        boolean any = false;
        for (int i = 0; i < n; i++) {
            if (weights[i] != 0 && eligible.test(nodeArray[i])) {
                masks[i / MASK_WORD_BITS] |= 1L << (i % MASK_WORD_BITS);
                any = true;
            }
        }
        return any ? pickAmong(0, masks) : null;
    }

    /**
     * One pick among the nodes whose bit is set: bit {@code i} of {@code mask} when {@code masks}
     * is null (at most 64 nodes), else bit {@code i % 64} of {@code masks[i / 64]}. At least one bit
     * must be set, and only for nodes with a positive weight.
     */
    private Node pickAmong(long mask, long[] masks) {
        long[] current = currentWeights;
        long[] weight = weights;
        int words = masks == null ? 1 : masks.length;
        lock.lock();
        try {
            // One pass, as in pick(); set bits come out in increasing index order, so strictly
            // greater keeps the earlier node on a tie.
            long total = 0;
            int best = 0;
            long bestCurrent = Long.MIN_VALUE;
            for (int w = 0; w < words; w++) {
                int base = w * MASK_WORD_BITS;
                for (long bits = masks == null ? mask : masks[w]; bits != 0; bits &= bits - 1) {
                    int i = base + Long.numberOfTrailingZeros(bits);
                    long grown = current[i] + weight[i];
                    current[i] = grown;
                    total += weight[i];
                    if (grown > bestCurrent) {
                        best = i;
                        bestCurrent = grown;
                    }
                }
            }
            current[best] = bestCurrent - total;
            return nodeArray[best];
        } finally {
            lock.unlock();
        }
    }

    /** The current weights, in node order; for tests and diagnostics. */
    long[] currentWeightsSnapshot() {
        lock.lock();
        try {
            return currentWeights.clone();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "SmoothWeightedPicker" + nodes.stream().map(node -> node.id() + "=" + node.weight()).toList();
    }

    /** An immutable copy of {@code nodes}, refused if null, holding null, or repeating an id. */
    static List<Node> copyWithUniqueIds(List<Node> nodes) {
        List<Node> copy = List.copyOf(Objects.requireNonNull(nodes, "nodes"));
        Set<String> ids = new HashSet<>();
        for (Node node : copy) {
            if (!ids.add(node.id())) {
                throw new IllegalArgumentException(
                        "nodes must have unique ids, but '" + node.id() + "' appears more than once");
            }
        }
        return copy;
    }
}
