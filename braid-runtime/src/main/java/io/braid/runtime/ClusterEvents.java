package io.braid.runtime;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.braid.api.DiscoverEvent;
import io.braid.api.Pubsub;
import io.braid.api.Role;
import io.braid.api.internal.LoneSurrogates;
import io.braid.api.internal.TimelineEvent;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime's own cluster events, published on well-known topics that users can subscribe to, as
 * braid did. Bodies are small JSON objects of strings and whole numbers, written by Gson. Each event
 * is published once: a node announces its own role changes and its own unlinks; discovery changes
 * of a service are announced by that service's leader.
 */
final class ClusterEvents {
    /** A node of some service was added, removed or updated. */
    static final String DISCOVER_SERVICE_UPDATE = "braid.topic.discover.service_update";
    /** A token was unlinked. */
    static final String LINKCACHE_UNLINK = "braid.topic.linkcache.unlink";
    /** A node's role in its service's election changed. */
    static final String ELECTION_CHANGE_STATE = "braid.topic.election.change_state";
    /** A node's timeline event ({@link ClusterTimeline}): joins, leaders, drains, hand-overs, Redis, fencing. */
    static final String CLUSTER_TIMELINE = "braid.topic.cluster.timeline";

    private static final Logger log = LoggerFactory.getLogger(ClusterEvents.class);
    private static final Gson GSON = new GsonBuilder().serializeNulls().create();

    private final Pubsub pubsub;

    ClusterEvents(Pubsub pubsub) {
        this.pubsub = pubsub;
    }

    void discover(DiscoverEvent event) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", event.type().name());
        body.put("service", event.node().service());
        body.put("node", event.node().id());
        body.put("address", event.node().address());
        body.put("state", event.node().state().name());
        body.put("weight", event.node().weight());
        publish(DISCOVER_SERVICE_UPDATE, body);
    }

    void unlink(String token, String service, String node) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("token", token);
        if (service != null) {
            body.put("service", service);
        }
        if (node != null) {
            body.put("node", node);
        }
        publish(LINKCACHE_UNLINK, body);
    }

    void role(String service, String node, Role role, long epoch) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("service", service);
        body.put("node", node);
        body.put("role", role.name());
        body.put("epoch", epoch);
        publish(ELECTION_CHANGE_STATE, body);
    }

    /** A timeline event: {@code at, node, seq, kind, text, fields}. */
    void timeline(TimelineEvent event) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("at", event.atMillis());
        body.put("node", event.node());
        body.put("seq", event.seq());
        body.put("kind", event.kind().name());
        body.put("text", event.text());
        body.put("fields", event.fields());
        publish(CLUSTER_TIMELINE, body);
    }

    /** The timeline event in {@code body}, or null when it is not one (logged). */
    static TimelineEvent timelineEvent(byte[] body) {
        try {
            TimelineJson json = GSON.fromJson(new String(body, StandardCharsets.UTF_8), TimelineJson.class);
            return new TimelineEvent(json.at, json.node, json.seq, TimelineEvent.Kind.valueOf(json.kind), json.text,
                    json.fields == null ? Map.of() : json.fields);
        } catch (RuntimeException e) {
            log.debug("not a timeline event: {}", e.toString());
            return null;
        }
    }

    /** A timeline event's body as read. */
    private static final class TimelineJson {
        long at;
        String node;
        long seq;
        String kind;
        String text;
        Map<String, String> fields;
    }

    private void publish(String topic, Map<String, Object> body) {
        try {
            pubsub.topic(topic).publish(body(body)).exceptionally(failure -> {
                log.debug("cluster event on {} not published: {}", topic, failure.getMessage());
                return null;
            });
        } catch (RuntimeException closing) {
            log.debug("cluster event on {} not published: {}", topic, closing.getMessage());
        }
    }

    /**
     * An event's body: {@code fields} as a JSON object in UTF-8. Gson escapes what a page or a
     * JavaScript line could stumble on ({@code <}, U+2028, control characters ...); a lone
     * surrogate in a field becomes an escape too, so the body reads back as what went in.
     */
    static byte[] body(Map<String, Object> fields) {
        return LoneSurrogates.escape(GSON.toJson(fields)).getBytes(StandardCharsets.UTF_8);
    }
}
