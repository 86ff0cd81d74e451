package io.braid.rpc.internal.balance;

import io.braid.api.Node;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * Uniformly random choice over one snapshot of a service's nodes.
 *
 * <p><b>Internal:</b> part of braid-rpc's implementation; public only so that
 * {@code io.braid.rpc.internal} (the client's node picker) can use it. It may change without notice.
 *
 * <p>Every eligible node with a positive weight has the same chance; weights are not used beyond
 * that, and a node with weight zero ("never picked for new work") is never chosen. Like
 * {@link SmoothWeightedPicker}, the picker does not look at {@link Node#state()}; say so in the
 * predicate. For a changed membership build a new picker with {@link #of(List)}: it has no state to
 * carry over.
 *
 * <p>A pick first tries a few random probes, which is enough when most nodes are eligible; if
 * they all miss it falls back to one pass that samples uniformly among the eligible nodes. Both
 * ways the result is uniform among the nodes that the predicate accepts, provided the predicate
 * answers the same for a node throughout one pick.
 *
 * <p><b>Threading.</b> Immutable and safe for concurrent use; randomness comes from
 * {@link ThreadLocalRandom}. A pick takes no lock and allocates nothing.
 */
public final class RandomPicker {

    /** Random probes before falling back to a full pass. */
    private static final int PROBES = 4;

    private final List<Node> nodes;
    /** The nodes with a positive weight: the only ones a pick can return. */
    private final Node[] candidates;

    private RandomPicker(List<Node> nodes) {
        this.nodes = nodes;
        this.candidates = nodes.stream().filter(node -> node.weight() > 0).toArray(Node[]::new);
    }

    /**
     * A picker over {@code nodes}.
     *
     * @param nodes the nodes; may be empty, must not contain null or two nodes with the same id
     * @throws IllegalArgumentException if two nodes share an id
     * @throws NullPointerException     if {@code nodes} or one of its elements is null
     */
    public static RandomPicker of(List<Node> nodes) {
        return new RandomPicker(SmoothWeightedPicker.copyWithUniqueIds(nodes));
    }

    /** The nodes of this snapshot, as given; immutable. */
    public List<Node> nodes() {
        return nodes;
    }

    /**
     * Picks uniformly at random among the nodes with a positive weight that {@code eligible}
     * accepts.
     *
     * <p>The predicate is called from the calling thread, possibly more than once for the same
     * node; it should be cheap and must not block.
     *
     * @param eligible which nodes may be chosen
     * @return the chosen node, or null if no node is eligible
     */
    public Node pick(Predicate<Node> eligible) {
        Objects.requireNonNull(eligible, "eligible");
        int n = candidates.length;
        if (n == 0) {
            return null;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int probe = 0; probe < PROBES; probe++) {
            Node node = candidates[random.nextInt(n)];
            if (eligible.test(node)) {
                return node;
            }
        }
        // Reservoir sampling of size one: the k-th eligible node replaces the choice with
        // probability 1/k, which leaves each of them chosen with probability 1/(eligible count).
        Node chosen = null;
        int seen = 0;
        for (Node node : candidates) {
            if (eligible.test(node)) {
                seen++;
                if (random.nextInt(seen) == 0) {
                    chosen = node;
                }
            }
        }
        return chosen;
    }

    @Override
    public String toString() {
        return "RandomPicker" + nodes.stream().map(Node::id).toList();
    }
}
