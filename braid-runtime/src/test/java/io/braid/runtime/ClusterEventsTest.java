package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.ChannelOptions;
import io.braid.api.Message;
import io.braid.monitor.MonitorJson;
import io.braid.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The runtime's own events on the well-known topics, as braid published them. */
class ClusterEventsTest {
    private static List<String> watch(Braid braid, String topic) {
        List<String> bodies = new CopyOnWriteArrayList<>();
        braid.topic(topic).subscribe("watcher", ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST))
                .onMessage((Message m) -> bodies.add(new String(m.body(), StandardCharsets.UTF_8)));
        return bodies;
    }

    @Test
    void electionDiscoveryAndUnlinkEventsArePublished() throws Exception {
        InMemoryControlPlane plane = new InMemoryControlPlane("events-" + UUID.randomUUID());
        try (Braid observer = Braid.builder().service("monitor").ioThreads(1).inMemory(plane).start()) {
            List<String> roles = watch(observer, ClusterEvents.ELECTION_CHANGE_STATE);
            List<String> members = watch(observer, ClusterEvents.DISCOVER_SERVICE_UPDATE);
            List<String> unlinks = watch(observer, ClusterEvents.LINKCACHE_UNLINK);

            try (Braid logic1 = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1).inMemory(plane).start()) {
                Await.until(Duration.ofSeconds(5), "logic-1 announces it leads",
                        () -> roles.stream().anyMatch(b -> b.contains("\"node\":\"logic-1\"") && b.contains("\"role\":\"LEADER\"")));
                Braid logic2 = Braid.builder().service("logic").nodeId("logic-2").ioThreads(1).inMemory(plane).start();
                Await.until(Duration.ofSeconds(5), "the leader announces logic-2 joined",
                        () -> members.stream().anyMatch(b -> b.contains("\"type\":\"ADDED\"") && b.contains("\"node\":\"logic-2\"")));
                logic2.close();
                Await.until(Duration.ofSeconds(5), "the leader announces logic-2 left",
                        () -> members.stream().anyMatch(b -> b.contains("\"type\":\"REMOVED\"") && b.contains("\"node\":\"logic-2\"")));

                logic1.linkCache().relink("player-7", logic1.node());
                logic1.linkCache().unlink("player-7");
                Await.until(Duration.ofSeconds(5), "the unlink is announced",
                        () -> unlinks.stream().anyMatch(b -> b.contains("\"token\":\"player-7\"")));
            }
        }
    }

    /**
     * Event bodies are written by Gson: a quote, a backslash, control characters, a
     * character beyond the BMP and a lone surrogate in a field all come out as valid JSON in UTF-8
     * that reads back as what went in (the lone surrogate as an escape, which UTF-8 cannot carry).
     */
    @Test
    void eventBodiesEscapeWhatTheyCarry() {
        String awkward = "a\"b\\c\nd\u0001e\u001ff\t\uD83C\uDFAE<g";
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("token", awkward);
        fields.put("epoch", 7L);
        String body = new String(ClusterEvents.body(fields), StandardCharsets.UTF_8);

        assertThat(body).isEqualTo("{\"token\":\"a\\\"b\\\\c\\nd\\u0001e\\u001ff\\t\uD83C\uDFAE\\u003cg\",\"epoch\":7}");
        assertThat(MonitorJson.parseObject(body)).isEqualTo(fields);

        String lone = new String(ClusterEvents.body(Map.of("token", "x\uD83Cy")), StandardCharsets.UTF_8);
        assertThat(lone).isEqualTo("{\"token\":\"x\\ud83cy\"}");
        assertThat(MonitorJson.parseObject(lone)).containsEntry("token", "x\uD83Cy");
    }
}
