package io.braid.monitor;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.Strictness;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;
import java.util.List;
import java.util.Map;

/**
 * Reads JSON with Gson, independently of the monitor's writer, and finds things in the monitor's
 * JSON answers (/api/cluster, /api/topics), for tests of any module. Objects read as maps, arrays
 * as lists, whole numbers as {@code Long}, others as {@code Double}.
 */
public final class MonitorJson {
    // LEGACY_STRICT: the monitor writes a lone surrogate as an escape (a name a client chose may hold
    // one), which Gson's STRICT refuses since 2.14; everything else that is not JSON is still refused.
    private static final Gson GSON = new GsonBuilder().serializeNulls().setStrictness(Strictness.LEGACY_STRICT)
            .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE).create();
    private static final TypeToken<Map<String, Object>> OBJECT = new TypeToken<>() {
    };

    private MonitorJson() {
    }

    /** {@code text} as a JSON object; fails the test if it is anything else. */
    public static Map<String, Object> parseObject(String text) {
        Map<String, Object> object = GSON.fromJson(text, OBJECT);
        if (object == null) {
            throw new IllegalArgumentException("expected a JSON object, got " + text);
        }
        return object;
    }

    /** One JSON value: a map, a list, a string, a number, a boolean or null. */
    public static Object parse(String text) {
        return GSON.fromJson(text, Object.class);
    }

    /** {@code value} (maps, lists, strings, numbers, booleans, null) as JSON text. */
    public static String write(Object value) {
        return GSON.toJson(value);
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
