package io.braid.monitor;

import java.util.List;
import java.util.Map;

/** Finds things in the monitor's JSON answers (/api/cluster, /api/topics), for tests of any module. */
public final class MonitorJson {
    private MonitorJson() {
    }

    public static Map<String, Object> node(Map<String, Object> view, String service, String id) {
        return list(view.get("services")).stream().filter(s -> s.get("name").equals(service))
                .flatMap(s -> list(s.get("nodes")).stream()).filter(n -> n.get("id").equals(id))
                .findFirst().orElseThrow(() -> new IllegalStateException("no node " + id + " in " + view));
    }

    public static Map<String, Object> topic(Map<String, Object> json, String name) {
        return list(json.get("topics")).stream().filter(t -> t.get("name").equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no topic " + name + " in " + json));
    }

    public static Map<String, Object> channel(Map<String, Object> topic, String name) {
        return list(topic.get("channels")).stream().filter(c -> c.get("name").equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no channel " + name + " in " + topic));
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }
}
