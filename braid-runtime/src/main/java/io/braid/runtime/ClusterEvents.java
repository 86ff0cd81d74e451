package io.braid.runtime;

import io.braid.api.DiscoverEvent;
import io.braid.api.Pubsub;
import io.braid.api.Role;
import io.braid.monitor.internal.Json;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime's own cluster events, published on well-known topics that users can subscribe to, as
 * braid did. Bodies are small JSON objects. Each event is published once: a node announces its own
 * role changes and its own unlinks; discovery changes of a service are announced by that service's
 * leader.
 */
public final class ClusterEvents {
    /** A node of some service was added, removed or updated. */
    public static final String DISCOVER_SERVICE_UPDATE = "braid.topic.discover.service_update";
    /** A token was unlinked. */
    public static final String LINKCACHE_UNLINK = "braid.topic.linkcache.unlink";
    /** A node's role in its service's election changed. */
    public static final String ELECTION_CHANGE_STATE = "braid.topic.election.change_state";

    private static final Logger log = LoggerFactory.getLogger(ClusterEvents.class);

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

    /** An event's body: {@code fields} as a JSON object in UTF-8, written by the monitor's one JSON writer. */
    static byte[] body(Map<String, Object> fields) {
        return Json.write(fields).getBytes(StandardCharsets.UTF_8);
    }
}
