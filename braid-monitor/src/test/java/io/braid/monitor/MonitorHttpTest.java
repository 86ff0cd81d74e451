package io.braid.monitor;

import static io.braid.monitor.MonitorJson.node;
import static io.braid.monitor.MonitorJson.topic;
import static io.braid.monitor.MonitorJson.channel;
import static io.braid.monitor.MonitorJson.list;
import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.ChannelOptions;
import io.braid.api.NodeState;
import io.braid.testkit.Await;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The monitor's HTTP API on a live three-node cluster (a gateway with the monitor, two logic
 * nodes): shapes and figures of the JSON answers against what the test did, /metrics through
 * promtool, the bearer token, health and readiness, and the operator actions.
 */
class MonitorHttpTest {
    private static final String TOKEN = "s3cret-monitor-token-0123";
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static TestCluster cluster;
    private static TestCluster.TestNode gateway;
    private static TestCluster.TestNode logic1;
    private static TestCluster.TestNode logic2;
    private static String base;

    @BeforeAll
    static void startCluster() {
        cluster = new TestCluster();
        gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                .withHttp(MonitorOptions.port(0).withBearerToken(TOKEN).withGatherTimeout(Duration.ofSeconds(2))));
        logic1 = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        logic2 = cluster.start(TestCluster.Spec.of("logic", "logic-2"));
        base = gateway.baseUrl();
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @Test
    void healthAndReadinessNeedNoToken() {
        assertThat(Http.get(base + "/healthz", null).statusCode()).isEqualTo(200);
        HttpResponse<String> ready = Http.get(base + "/readyz", null);
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready\n");
    }

    @Test
    void everythingElseNeedsTheBearerToken() {
        for (String path : List.of("/metrics", "/api/cluster", "/api/topics", "/api/tokens/p1")) {
            HttpResponse<String> none = Http.get(base + path, null);
            assertThat(none.statusCode()).as(path).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"braid\"");
            assertThat(Http.get(base + path, "wrong-token-wrong-token").statusCode()).as(path).isEqualTo(401);
            assertThat(Http.get(base + path, TOKEN).statusCode()).as(path).isEqualTo(200);
        }
        assertThat(Http.post(base + "/api/nodes/logic-1/weight", null, "application/json", "{\"weight\":5}")
                .statusCode()).isEqualTo(401);
        assertThat(logic1.node().weight()).isEqualTo(100);
        // The page itself holds no data: it loads, then asks for the token.
        HttpResponse<String> page = Http.get(base + "/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(Http.get(base + "/dashboard.js", null).statusCode()).isEqualTo(200);
        assertThat(Http.get(base + "/nope", TOKEN).statusCode()).isEqualTo(404);
    }

    @Test
    void clusterFiguresMatchWhatTheCallsDid() {
        Map<String, Object> before = Http.json(Http.get(base + "/api/cluster", TOKEN));
        long before1 = helloCalls(node(before, "logic", "logic-1"));
        long before2 = helloCalls(node(before, "logic", "logic-2"));
        Map<String, Integer> servedBy = new HashMap<>();
        int calls = 60;
        for (int i = 0; i < calls; i++) {
            String answer = gateway.hello("logic", "cluster-player-" + (i % 12), "p" + i);
            servedBy.merge(answer.substring(answer.lastIndexOf(' ') + 1), 1, Integer::sum);
        }
        assertThat(servedBy.keySet()).containsExactlyInAnyOrder("logic-1", "logic-2");

        Await.until(WAIT, "the cluster view to show every call", () -> {
            Map<String, Object> view = Http.json(Http.get(base + "/api/cluster", TOKEN));
            Map<String, Object> logic1Json = node(view, "logic", "logic-1");
            Map<String, Object> logic2Json = node(view, "logic", "logic-2");
            return helloCalls(logic1Json) >= before1 + servedBy.get("logic-1")
                    && helloCalls(logic2Json) >= before2 + servedBy.get("logic-2");
        });
        Map<String, Object> view = Http.json(Http.get(base + "/api/cluster", TOKEN));
        assertThat(view).containsKeys("self", "generatedAt", "sampleIntervalMs", "services", "methods", "refreshMs");
        assertThat(view.get("self")).isEqualTo("gateway-1");
        List<Map<String, Object>> services = list(view.get("services"));
        assertThat(services).extracting(s -> s.get("name")).containsExactly("gateway", "logic");
        for (Map<String, Object> service : services) {
            List<Map<String, Object>> nodes = list(service.get("nodes"));
            assertThat(nodes.stream().filter(n -> Boolean.TRUE.equals(n.get("leader")))).as("one leader").hasSize(1);
            assertThat(service.get("leader")).isEqualTo(nodes.stream().filter(n -> Boolean.TRUE.equals(n.get("leader")))
                    .findFirst().orElseThrow().get("id"));
            for (Map<String, Object> node : nodes) {
                assertThat(node).containsKeys("id", "address", "state", "weight", "leader", "role", "epoch", "links",
                        "callRate", "p99Ms", "reachable", "methods");
                assertThat(node.get("reachable")).isEqualTo(true);
                assertThat((Long) node.get("epoch")).isGreaterThanOrEqualTo(1L);
            }
        }
        Map<String, Object> logic1Json = node(view, "logic", "logic-1");
        Map<String, Object> logic2Json = node(view, "logic", "logic-2");
        // Exactly the calls each node served meanwhile.
        assertThat(helloCalls(logic1Json) - before1).isEqualTo((long) servedBy.get("logic-1"));
        assertThat(helloCalls(logic2Json) - before2).isEqualTo((long) servedBy.get("logic-2"));
        assertThat(logic1Json.get("address")).isEqualTo(logic1.node().address());
        // Links: what the link cache holds for each node, and 12 tokens in all.
        assertThat(logic1Json.get("links")).isEqualTo(logic1.linkCache.linkCount("logic-1"));
        assertThat(logic2Json.get("links")).isEqualTo(logic2.linkCache.linkCount("logic-2"));
        assertThat((Long) logic1Json.get("links") + (Long) logic2Json.get("links")).isGreaterThanOrEqualTo(12L);
        Map<String, Object> hello = list(view.get("methods")).stream()
                .filter(m -> m.get("service").equals("logic") && m.get("method").equals("hello")).findFirst().orElseThrow();
        assertThat((Long) hello.get("calls")).isGreaterThanOrEqualTo((long) calls);
        assertThat((Double) hello.get("p99Ms")).isGreaterThan(0.0);
        assertThat(list(hello.get("history"))).isNotEmpty();
        // The monitor's own methods are not counted as load.
        assertThat(list(logic1Json.get("methods"))).extracting(m -> m.get("method")).doesNotContain("braid.stats");
    }

    @Test
    void aTokenLookupSaysWhereThePlayerIs() {
        String answer = gateway.hello("logic", "lookup-player", "x");
        String owner = answer.substring(answer.lastIndexOf(' ') + 1);
        Map<String, Object> json = Http.json(Http.get(base + "/api/tokens/lookup-player", TOKEN));
        assertThat(json.get("token")).isEqualTo("lookup-player");
        List<Map<String, Object>> links = list(json.get("links"));
        assertThat(links).hasSize(1);
        assertThat(links.get(0)).containsEntry("service", "logic").containsEntry("node", owner);
        TestCluster.TestNode ownerNode = owner.equals("logic-1") ? logic1 : logic2;
        assertThat(links.get(0)).containsEntry("address", ownerNode.node().address())
                .containsEntry("state", ownerNode.node().state().name());
        assertThat(list(Http.json(Http.get(base + "/api/tokens/nobody", TOKEN)).get("links"))).isEmpty();
    }

    @Test
    void topicFiguresMatchWhatWasPublished() throws Exception {
        // "idle": joined, no handler: everything is backlog. "stuck": the handler fails and the
        // message is redelivered only after a minute: everything is pending. "doomed": one delivery
        // allowed, then the dead letters.
        var idle = logic1.pubsub.topic("figures").subscribe("idle", ChannelOptions.DEFAULT);
        var stuck = logic1.pubsub.topic("figures").subscribe("stuck",
                ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMinutes(1)));
        var doomed = logic2.pubsub.topic("figures").subscribe("doomed",
                ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMillis(20)).withMaxDeliveries(1));
        AtomicInteger failures = new AtomicInteger();
        stuck.onMessage(message -> {
            failures.incrementAndGet();
            throw new IllegalStateException("stuck");
        });
        doomed.onMessage(message -> {
            throw new IllegalStateException("doomed");
        });
        int published = 7;
        for (int i = 0; i < published; i++) {
            gateway.pubsub.topic("figures").publish(("m" + i).getBytes(StandardCharsets.UTF_8)).join();
        }
        Await.until(WAIT, "the topic figures", () -> {
            Map<String, Object> topic = topic(Http.json(Http.get(base + "/api/topics", TOKEN)), "figures");
            return ((Long) channel(topic, "stuck").get("pending")) == published
                    && ((Long) topic.get("deadLetters")) == published;
        });
        Map<String, Object> json = Http.json(Http.get(base + "/api/topics", TOKEN));
        assertThat(json.get("supported")).isEqualTo(true);
        Map<String, Object> topic = topic(json, "figures");
        assertThat(topic.get("length")).isEqualTo((long) published);
        assertThat(channel(topic, "idle")).containsEntry("backlog", (long) published).containsEntry("pending", 0L)
                .containsEntry("consumers", 1L);
        assertThat(channel(topic, "stuck")).containsEntry("backlog", 0L).containsEntry("pending", (long) published);
        assertThat(channel(topic, "doomed")).containsEntry("backlog", 0L).containsEntry("pending", 0L);
        assertThat(failures.get()).isEqualTo(published);
        idle.close();
        stuck.close();
        doomed.close();
    }

    @Test
    void metricsPassPromtoolAndNameEveryMeter() {
        gateway.hello("logic", "metrics-player", "m");
        gateway.hello("logic", "metrics-player", "m");
        gateway.pubsub.topic("metrics.topic").publish("x".getBytes(StandardCharsets.UTF_8)).join();
        Await.until(WAIT, "the sampler to read the links and topics", () ->
                Http.get(base + "/metrics", TOKEN).body().contains("braid_pubsub_backlog")
                        || Http.get(base + "/metrics", TOKEN).body().contains("braid_linkcache_links"));
        HttpResponse<String> metrics = Http.get(base + "/metrics", TOKEN);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type")).contains("text/plain; version=0.0.4; charset=utf-8");
        assertThat(metrics.body()).contains(
                "braid_rpc_client_calls_seconds_count{code=\"OK\",method=\"hello\",service=\"logic\"}",
                "braid_linkcache_lookups_total{outcome=\"miss\",service=\"logic\"}",
                "braid_linkcache_lookups_total{outcome=\"near_hit\",service=\"logic\"}",
                "braid_linkcache_links{node=\"gateway-1\"}",
                "braid_pubsub_published_total{topic=\"metrics.topic\"}",
                "braid_discover_nodes{service=\"logic\",state=\"ACTIVE\"}",
                "braid_election_role{role=\"LEADER\",service=\"gateway\"} 1.0",
                "braid_election_epoch{service=\"gateway\"}",
                "quantile=\"0.99\"");
        Promtool.Verdict verdict = Promtool.checkMetrics(metrics.body());
        assertThat(verdict.output()).as("promtool check metrics").isEmpty();
        assertThat(verdict.exitCode()).isZero();
    }

    @Test
    void operatorActionsDrainAndReweighANodeThroughItsOwnMethods() {
        TestCluster.TestNode extra = cluster.start(TestCluster.Spec.of("logic", "logic-3"));
        try {
            HttpResponse<String> formPost = Http.post(base + "/api/nodes/logic-3/drain", TOKEN,
                    "application/x-www-form-urlencoded", "");
            assertThat(formPost.statusCode()).as("cross-site forms cannot act").isEqualTo(415);
            assertThat(Http.get(base + "/api/nodes/logic-3/drain", TOKEN).statusCode()).isEqualTo(405);

            Map<String, Object> weighed = Http.json(Http.post(base + "/api/nodes/logic-3/weight", TOKEN,
                    "application/json", "{\"weight\": 7}"));
            assertThat(weighed).containsEntry("node", "logic-3").containsEntry("weight", 7L);
            assertThat(extra.node().weight()).isEqualTo(7);
            assertThat(Http.post(base + "/api/nodes/logic-3/weight", TOKEN, "application/json", "{\"weight\": -1}")
                    .statusCode()).isEqualTo(400);
            assertThat(Http.post(base + "/api/nodes/nobody/drain", TOKEN, "application/json", "{}").statusCode())
                    .isEqualTo(404);

            Map<String, Object> drained = Http.json(Http.post(base + "/api/nodes/logic-3/drain", TOKEN,
                    "application/json", "{}"));
            assertThat(drained).containsEntry("node", "logic-3").containsEntry("state", "DRAINING");
            assertThat(extra.drains).isEqualTo(1);
            Await.until(WAIT, "discovery to list logic-3 as DRAINING", () -> gateway.discover.nodes("logic").stream()
                    .anyMatch(n -> n.id().equals("logic-3") && n.state() == NodeState.DRAINING));
            Map<String, Object> view = Http.json(Http.get(base + "/api/cluster", TOKEN));
            assertThat(node(view, "logic", "logic-3")).containsEntry("state", "DRAINING").containsEntry("weight", 7L);
        } finally {
            extra.close();
            cluster.nodes().remove(extra);
        }
    }

    @Test
    void readinessFollowsTheNodesOwnState() {
        TestCluster.TestNode watched = cluster.start(TestCluster.Spec.of("edge", "edge-1")
                .withHttp(MonitorOptions.port(0)));
        try {
            assertThat(Http.get(watched.baseUrl() + "/readyz", null).statusCode()).isEqualTo(200);
            // No token configured: the API answers without one.
            assertThat(Http.get(watched.baseUrl() + "/api/topics", null).statusCode()).isEqualTo(200);
            watched.drain();
            HttpResponse<String> ready = Http.get(watched.baseUrl() + "/readyz", null);
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).isEqualTo("draining\n");
            assertThat(Http.get(watched.baseUrl() + "/healthz", null).statusCode()).isEqualTo(200);
        } finally {
            watched.close();
            cluster.nodes().remove(watched);
        }
    }

    private static long helloCalls(Map<String, Object> node) {
        return list(node.get("methods")).stream().filter(m -> m.get("method").equals("hello"))
                .mapToLong(m -> (Long) m.get("calls")).sum();
    }

}
