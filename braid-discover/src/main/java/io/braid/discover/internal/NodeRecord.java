package io.braid.discover.internal;

import io.braid.api.Node;
import io.braid.api.NodeState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node as a Redis hash (readable with redis-cli: {@code HGETALL braid:{svc:logic}:node:logic-1})
 * and the operator override hash that may change its weight and state.
 */
final class NodeRecord {
    static final String ID = "id";
    static final String SERVICE = "service";
    static final String HOST = "host";
    static final String PORT = "port";
    static final String WEIGHT = "weight";
    static final String STATE = "state";
    static final String META = "meta.";

    private NodeRecord() {
    }

    /** Field/value pairs, flat, as HSET takes them. */
    static List<String> fields(Node node) {
        List<String> out = new ArrayList<>(12 + node.metadata().size() * 2);
        out.add(ID);
        out.add(node.id());
        out.add(SERVICE);
        out.add(node.service());
        out.add(HOST);
        out.add(node.host());
        out.add(PORT);
        out.add(Integer.toString(node.port()));
        out.add(WEIGHT);
        out.add(Integer.toString(node.weight()));
        out.add(STATE);
        out.add(node.state().name());
        node.metadata().forEach((key, value) -> {
            out.add(META + key);
            out.add(value);
        });
        return out;
    }

    /** The node from a flat HGETALL reply; throws IllegalArgumentException (or NPE) for a record that is not one. */
    static Node parse(List<?> record) {
        Map<String, String> fields = toMap(record);
        Map<String, String> metadata = new LinkedHashMap<>();
        fields.forEach((key, value) -> {
            if (key.startsWith(META)) {
                metadata.put(key.substring(META.length()), value);
            }
        });
        return new Node(fields.get(ID), fields.get(SERVICE), fields.get(HOST), Integer.parseInt(fields.get(PORT)),
                Integer.parseInt(fields.get(WEIGHT)), NodeState.valueOf(fields.get(STATE)), metadata);
    }

    /** {@code node} with an operator override's weight and state; throws IllegalArgumentException for a bad one. */
    static Node override(Node node, List<?> override) {
        Map<String, String> overrides = toMap(override);
        String weight = overrides.get(WEIGHT);
        if (weight != null) {
            node = node.withWeight(Integer.parseInt(weight.strip()));
        }
        String state = overrides.get(STATE);
        if (state != null) {
            node = node.withState(NodeState.valueOf(state.strip().toUpperCase(java.util.Locale.ROOT)));
        }
        return node;
    }

    private static Map<String, String> toMap(List<?> flat) {
        Map<String, String> map = new LinkedHashMap<>();
        if (flat == null) {
            return map;
        }
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            map.put(String.valueOf(flat.get(i)), String.valueOf(flat.get(i + 1)));
        }
        return map;
    }
}
