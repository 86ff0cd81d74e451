package io.braid.runtime;

import static io.braid.monitor.MonitorJson.channel;
import static io.braid.monitor.MonitorJson.list;
import static io.braid.monitor.MonitorJson.node;
import static io.braid.monitor.MonitorJson.topic;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.ChannelOptions;
import io.braid.api.Message;
import io.braid.api.NodeState;
import io.braid.monitor.MonitorJson;
import io.braid.monitor.MonitorOptions;
import io.braid.monitor.Promtool;
import io.braid.monitor.internal.BraidMeters;
import io.braid.monitor.internal.BraidSpans;
import io.braid.testkit.Await;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor as {@code Braid.builder().monitor(...)} wires it, on a live three-node cluster: a
 * gateway with the monitor and two logic nodes without one (their figures come through their own
 * {@code braid.stats}). The JSON answers match what the test did; /metrics passes promtool; the
 * operator actions drain and reweigh a node; a trace crosses nodes and topics. Run on every control
 * plane.
 */
abstract class MonitorContract {
    static final String TOKEN = "runtime-monitor-token-42";
    static final Duration WAIT = Duration.ofSeconds(15);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final List<Braid> nodes = new ArrayList<>();
    private final List<OpenTelemetrySdk> sdks = new ArrayList<>();
    final InMemorySpanExporter spans = InMemorySpanExporter.create();

    protected abstract Braid.Builder onPlane(Braid.Builder node);

    @AfterEach
    void closeNodes() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
        sdks.forEach(OpenTelemetrySdk::close);
    }

    Braid start(Braid.Builder builder) {
        Braid node = onPlane(builder.ioThreads(1)).start();
        nodes.add(node);
        return node;
    }

    OpenTelemetrySdk sdk() {
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        sdks.add(sdk);
        return sdk;
    }

    Braid logic(String id) {
        return start(Braid.builder().service("logic").nodeId(id)
                .handle("hello", StringValue.parser(), (ctx, req) -> StringValue.of("hello " + req.getValue() + " from " + id)));
    }

    Braid gatewayWithMonitor() {
        return start(Braid.builder().service("gateway").nodeId("gateway-1")
                .monitor(MonitorOptions.port(0).withBearerToken(TOKEN)));
    }

    @Test
    void theMonitorShowsTheClusterAsTheTestMadeIt() throws Exception {
        Braid gateway = gatewayWithMonitor();
        Braid logic1 = logic("logic-1");
        Braid logic2 = logic("logic-2");
        String base = base(gateway);
        Await.until(WAIT, "a leader in each service", () -> gateway.elector().isLeader()
                && (logic1.elector().isLeader() || logic2.elector().isLeader()));

        Map<String, Integer> servedBy = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            String answer = gateway.invoke("logic", "hello", "player-" + (i % 10), StringValue.of("p" + i),
                    StringValue.parser()).get(10, TimeUnit.SECONDS).getValue();
            servedBy.merge(answer.substring(answer.lastIndexOf(' ') + 1), 1, Integer::sum);
        }
        var archive = gateway.topic("chat.world").subscribe("archive", ChannelOptions.DEFAULT); // no handler: backlog
        List<Message> heard = new CopyOnWriteArrayList<>();
        logic1.topic("chat.world").subscribe("logic-1").onMessage(heard::add);
        for (int i = 0; i < 6; i++) {
            gateway.topic("chat.world").publish(("line " + i).getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
        }
        Await.until(WAIT, "logic-1 to hear every line", () -> heard.size() == 6);

        Map<String, Object> view = json(get(base + "/api/cluster", TOKEN));
        List<Map<String, Object>> services = list(view.get("services"));
        assertThat(services).extracting(s -> s.get("name")).contains("gateway", "logic");
        for (String id : List.of("logic-1", "logic-2")) {
            Map<String, Object> node = node(view, "logic", id);
            Braid braid = id.equals("logic-1") ? logic1 : logic2;
            assertThat(node.get("reachable")).as(id + " answers braid.stats").isEqualTo(true);
            assertThat(node.get("address")).isEqualTo(braid.node().address());
            assertThat(node.get("state")).isEqualTo("ACTIVE");
            assertThat(node.get("weight")).isEqualTo(100L);
            assertThat(node.get("leader")).isEqualTo(braid.elector().isLeader());
            assertThat(node.get("epoch")).isEqualTo(braid.elector().epoch());
            assertThat(node.get("links")).isEqualTo(braid.linkCache().linkCount(id));
            assertThat(helloCalls(node)).isEqualTo((long) servedBy.getOrDefault(id, 0));
        }
        assertThat((Long) node(view, "logic", "logic-1").get("links") + (Long) node(view, "logic", "logic-2").get("links"))
                .isEqualTo(10L);
        assertThat(node(view, "gateway", "gateway-1")).containsEntry("leader", true).containsEntry("self", true);

        String owner = gateway.linkCache().target("player-3", "logic").orElseThrow();
        List<Map<String, Object>> links = list(json(get(base + "/api/tokens/player-3", TOKEN)).get("links"));
        assertThat(links).hasSize(1);
        assertThat(links.get(0)).containsEntry("service", "logic").containsEntry("node", owner).containsEntry("state", "ACTIVE");

        Await.until(WAIT, "the topic figures", () -> {
            Map<String, Object> topic = topic(json(get(base + "/api/topics", TOKEN)), "chat.world");
            return channel(topic, "archive").get("backlog").equals(6L) && channel(topic, "logic-1").get("backlog").equals(0L)
                    && channel(topic, "logic-1").get("pending").equals(0L);
        });
        Map<String, Object> topic = topic(json(get(base + "/api/topics", TOKEN)), "chat.world");
        assertThat(topic.get("deadLetters")).isEqualTo(0L);
        assertThat(channel(topic, "archive")).containsEntry("pending", 0L);
        assertThat(channel(topic, "logic-1")).containsEntry("consumers", 1L);

        // (The monitor's own timeline channel has a backlog gauge from the start: wait for chat.world's.)
        Await.until(WAIT, "the sampler's gauges", () -> get(base + "/metrics", TOKEN).body()
                .contains("braid_pubsub_backlog{channel=\"archive\",topic=\"chat.world\"}"));
        HttpResponse<String> metrics = get(base + "/metrics", TOKEN);
        assertThat(metrics.body()).contains("braid_rpc_client_calls_seconds_count{code=\"OK\",method=\"hello\",service=\"logic\"} 40",
                "braid_pubsub_published_total{topic=\"chat.world\"} 6",
                "braid_pubsub_backlog{channel=\"archive\",topic=\"chat.world\"} 6",
                "braid_discover_nodes{service=\"logic\",state=\"ACTIVE\"} 2",
                "braid_election_role{role=\"LEADER\",service=\"gateway\"} 1");
        assertPromtoolAccepts(metrics.body());
        assertThat(gateway.meterRegistry().get(BraidMeters.LINKCACHE_LOOKUPS).tag(BraidMeters.TAG_SERVICE, "logic")
                .tag(BraidMeters.TAG_OUTCOME, "miss").counter().count()).isEqualTo(10);

        assertThat(get(base + "/api/cluster", null).statusCode()).isEqualTo(401);
        assertThat(get(base + "/healthz", null).statusCode()).isEqualTo(200);
        assertThat(get(base + "/readyz", null).statusCode()).isEqualTo(200);
        archive.close();
    }

    @Test
    void operatorActionsReweighAndDrainANodeOfTheCluster() {
        Braid gateway = gatewayWithMonitor();
        logic("logic-1");
        Braid logic2 = logic("logic-2");
        String base = base(gateway);

        Map<String, Object> weighed = json(post(base + "/api/nodes/logic-2/weight", "{\"weight\": 5}"));
        assertThat(weighed).containsEntry("node", "logic-2").containsEntry("weight", 5L);
        assertThat(logic2.node().weight()).isEqualTo(5);
        Await.until(WAIT, "the gateway to see weight 5", () -> gateway.discover().nodes("logic").stream()
                .anyMatch(n -> n.id().equals("logic-2") && n.weight() == 5));

        // A player on logic-2 keeps it draining (a node with no players would close at once).
        gateway.linkCache().relink("kept-player", logic2.node());
        Map<String, Object> drained = json(post(base + "/api/nodes/logic-2/drain", "{}"));
        assertThat(drained).containsEntry("node", "logic-2").containsEntry("state", "DRAINING");
        Await.until(WAIT, "discovery to show logic-2 DRAINING", () -> gateway.discover().nodes("logic").stream()
                .anyMatch(n -> n.id().equals("logic-2") && n.state() == NodeState.DRAINING));
        assertThat(node(json(get(base + "/api/cluster", TOKEN)), "logic", "logic-2")).containsEntry("state", "DRAINING");
        for (int i = 0; i < 5; i++) {
            String answer = gateway.invoke("logic", "hello", "new-player-" + i, StringValue.of("x"), StringValue.parser())
                    .join().getValue();
            assertThat(answer).as("a draining node takes no new players").endsWith("logic-1");
        }
    }

    @Test
    void aTraceCrossesNodesAndTopicsBuiltByTheBuilder() throws Exception {
        List<Message> delivered = new CopyOnWriteArrayList<>();
        Braid gateway = start(Braid.builder().service("gateway").nodeId("gateway-1").openTelemetry(sdk()));
        start(Braid.builder().service("logic").nodeId("logic-1").openTelemetry(sdk())
                .subscribe("events", "logic-1", delivered::add));
        start(Braid.builder().service("store").nodeId("store-1").openTelemetry(sdk())
                .handle("hello", StringValue.parser(), (ctx, req) -> StringValue.of("stored " + req.getValue())));
        java.util.concurrent.atomic.AtomicReference<Braid> relay = new java.util.concurrent.atomic.AtomicReference<>();
        relay.set(start(Braid.builder().service("relay").nodeId("relay-1").openTelemetry(sdk())
                .handle("relay", StringValue.parser(), (ctx, req) -> {
                    // A call made while serving joins the caller's trace; so does a publish.
                    relay.get().topic("events").publish(req.getValue().getBytes(StandardCharsets.UTF_8)).join();
                    return relay.get().invoke("store", "hello", ctx.token(), req, StringValue.parser()).join();
                })));
        // A new player goes to a node the gateway's discovery lists: wait until the events reached it.
        Await.until(WAIT, "the gateway's discovery to list relay-1", () -> !gateway.discover().nodes("relay").isEmpty());
        String answer = gateway.invoke("relay", "relay", "player-9", StringValue.of("x"), StringValue.parser())
                .get(10, TimeUnit.SECONDS).getValue();
        assertThat(answer).isEqualTo("stored x");
        Await.until(WAIT, "the delivery and its span", () -> delivered.size() == 1
                && spans.getFinishedSpanItems().stream().anyMatch(s -> s.getKind() == SpanKind.CONSUMER));

        List<SpanData> all = spans.getFinishedSpanItems();
        SpanData root = one(all, "relay/relay", SpanKind.CLIENT);
        SpanData served = one(all, "relay/relay", SpanKind.SERVER);
        SpanData publish = one(all, "events publish", SpanKind.PRODUCER);
        SpanData consume = one(all, "events/logic-1 process", SpanKind.CONSUMER);
        SpanData storeServed = one(all, "store/hello", SpanKind.SERVER);
        assertThat(List.of(served, publish, consume, storeServed)).extracting(SpanData::getTraceId)
                .containsOnly(root.getTraceId());
        assertThat(served.getParentSpanId()).isEqualTo(root.getSpanId());
        assertThat(publish.getParentSpanId()).isEqualTo(served.getSpanId());
        assertThat(consume.getParentSpanId()).isEqualTo(publish.getSpanId());
        assertThat(delivered.get(0).headers()).containsKey(BraidSpans.TRACEPARENT);
    }

    static String base(Braid braid) {
        return "http://127.0.0.1:" + braid.monitorAddress().orElseThrow().getPort();
    }

    static HttpResponse<String> get(String url, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request.build());
    }

    static HttpResponse<String> post(String url, String body) {
        return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> json(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return MonitorJson.parseObject(response.body());
    }

    /** Prometheus' linter, from Debian's prometheus package (.ci/run installs it); missing fails. */
    static void assertPromtoolAccepts(String exposition) throws Exception {
        Promtool.Verdict verdict = Promtool.checkMetrics(exposition);
        assertThat(verdict.output()).as("promtool check metrics").isEmpty();
        assertThat(verdict.exitCode()).isZero();
    }

    private static long helloCalls(Map<String, Object> node) {
        return list(node.get("methods")).stream().filter(m -> m.get("method").equals("hello"))
                .mapToLong(m -> (Long) m.get("calls")).sum();
    }


    private static SpanData one(List<SpanData> spans, String name, SpanKind kind) {
        List<SpanData> found = spans.stream().filter(s -> s.getName().equals(name) && s.getKind() == kind).toList();
        assertThat(found).as(kind + " span " + name + " among " + spans).hasSize(1);
        return found.get(0);
    }
}
