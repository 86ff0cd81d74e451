package io.braid.discover.internal;

import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The membership of one service as an immutable list sorted by id, and the events that turn one
 * list into another. Shared by every Discover implementation so they report changes alike.
 */
final class ServiceView {
    private ServiceView() {
    }

    /** An immutable copy of {@code nodes}, sorted by id. */
    static List<Node> sorted(Iterable<Node> nodes) {
        List<Node> list = new ArrayList<>();
        nodes.forEach(list::add);
        list.sort(Comparator.comparing(Node::id));
        return List.copyOf(list);
    }

    /** ADDED, UPDATED and REMOVED events from {@code before} to {@code after}, in id order. */
    static List<DiscoverEvent> diff(List<Node> before, List<Node> after) {
        Map<String, Node> old = new HashMap<>();
        for (Node node : before) {
            old.put(node.id(), node);
        }
        List<DiscoverEvent> events = new ArrayList<>();
        for (Node node : after) {
            Node previous = old.remove(node.id());
            if (previous == null) {
                events.add(DiscoverEvent.added(node));
            } else if (!previous.equals(node)) {
                events.add(DiscoverEvent.updated(previous, node));
            }
        }
        for (Node gone : before) {
            if (old.containsKey(gone.id())) {
                events.add(DiscoverEvent.removed(gone));
            }
        }
        return events;
    }
}
