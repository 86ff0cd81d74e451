package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Discover;
import io.braid.api.Node;
import io.braid.rpc.internal.balance.EjectionMarks;
import io.braid.rpc.internal.balance.RandomPicker;
import io.braid.rpc.internal.balance.SmoothWeightedPicker;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Chooses a node of the call's service for new work: random for a stateless call, smooth weighted
 * round robin for a token call that has no owner yet. Eligible are ACTIVE nodes with weight above
 * 0 that this call has not tried; of those, nodes ejected after connect failures and nodes that
 * just sent GoAway are passed over, unless that leaves none (fail open). The pickers are immutable
 * snapshots, rebuilt when discovery hands out a new node list. Thread-safe.
 */
final class NodePicker {
    private record ServiceBalancer(List<Node> nodes, RandomPicker random, SmoothWeightedPicker smooth) {
    }

    private final Discover discover;
    private final EjectionMarks marks;
    private final PeerPools pools;
    private final ConcurrentHashMap<String, ServiceBalancer> balancers = new ConcurrentHashMap<>();

    NodePicker(Discover discover, EjectionMarks marks, PeerPools pools) {
        this.discover = discover;
        this.marks = marks;
        this.pools = pools;
    }

    /** Picks a node and starts the call's next attempt there; throws when there is none. */
    void attempt(RoutedCall call, BraidException previous) {
        Node node = pick(call);
        if (node == null) {
            throw previous != null ? previous : noNodeFor(call);
        }
        call.attempt(node, pools.connection(node));
    }

    /** The node for the call's next attempt, or null when no node of its service can take it. */
    Node pick(RoutedCall call) {
        List<Node> nodes = discover.nodes(call.service());
        if (nodes.isEmpty()) {
            return null;
        }
        ServiceBalancer balancer = balancer(call.service(), nodes);
        boolean stateless = call.token().isEmpty();
        Predicate<Node> healthy = node -> takesNewWork(node) && !call.tried(node.id())
                && !marks.isEjected(node.id()) && !pools.avoided(node);
        Node node = stateless ? balancer.random.pick(healthy) : balancer.smooth.pick(healthy);
        if (node == null) {
            Predicate<Node> any = candidate -> takesNewWork(candidate) && !call.tried(candidate.id());
            node = stateless ? balancer.random.pick(any) : balancer.smooth.pick(any);
        }
        return node;
    }

    /**
     * UNAVAILABLE for a call that {@link #pick} found no node for: none is registered, or none of
     * those registered takes new work. The one place this text is written.
     */
    BraidException noNodeFor(RoutedCall call) {
        String service = call.service();
        return new BraidException(Code.UNAVAILABLE, discover.nodes(service).isEmpty()
                ? "no node of service '" + service + "' is registered"
                : "no ACTIVE node of service '" + service + "' can take "
                        + (call.token().isEmpty() ? "the call" : "token " + call.token()));
    }

    private static boolean takesNewWork(Node node) {
        return node.isActive() && node.weight() > 0;
    }

    private ServiceBalancer balancer(String service, List<Node> nodes) {
        ServiceBalancer current = balancers.get(service);
        if (current != null && current.nodes == nodes) {
            return current;
        }
        return balancers.compute(service, (s, old) -> {
            if (old != null && old.nodes == nodes) {
                return old;
            }
            SmoothWeightedPicker smooth = old == null ? SmoothWeightedPicker.of(nodes) : old.smooth.update(nodes);
            return new ServiceBalancer(nodes, RandomPicker.of(nodes), smooth);
        });
    }
}
