package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.Message;
import io.braid.monitor.internal.BraidSpans;
import io.braid.testkit.Await;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Traces carry the player: {@code braid.player} on the spans of a player's work, as the node's
 * {@link TracePlayers} setting shows it; a lane call's wait and run as children of its SERVER span;
 * a push from a logic node to the gateway as one trace; the player crossing hops without a token in
 * W3C baggage. Each node has its own SDK (separate processes would), all exporting to one
 * in-memory exporter.
 *
 * <p>The push: braid-gateway depends on braid-runtime, which depends on this module, so these
 * tests cannot start a real gateway (GatewayFixture). The push is the same shape on the wire: a
 * served token call of {@code braid.gateway.push} on a service named {@code gateway}, in the
 * token's lane, as the gateway registers it.
 */
class PlayerTracingTest {
    private static final AttributeKey<String> PLAYER = AttributeKey.stringKey(BraidSpans.BRAID_PLAYER);
    private static final String SECRET = "a secret of sixteen+";

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final List<OpenTelemetrySdk> sdks = new CopyOnWriteArrayList<>();
    private final TestCluster cluster = new TestCluster();

    private OpenTelemetrySdk sdk(TextMapPropagator... propagators) {
        TextMapPropagator propagator = propagators.length == 0 ? W3CTraceContextPropagator.getInstance()
                : TextMapPropagator.composite(propagators);
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(propagator))
                .build();
        sdks.add(sdk);
        return sdk;
    }

    private OpenTelemetrySdk sdkWithBaggage() {
        return sdk(W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance());
    }

    @AfterEach
    void close() {
        cluster.close();
        sdks.forEach(OpenTelemetrySdk::close);
    }

    @Test
    void everySpanOfATokenCallCarriesThePlayerAndACallWithoutATokenNone() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdk()));
        cluster.start(TestCluster.Spec.of("store", "store-1").withTracing(sdk()));

        relay(gateway, "player-7");
        Await.until(Duration.ofSeconds(5), "four spans", () -> exporter.getFinishedSpanItems().size() >= 4);
        List<SpanData> spans = exporter.getFinishedSpanItems();
        assertThat(spans).hasSize(4).allSatisfy(span ->
                assertThat(span.getAttributes().get(PLAYER)).as(span.getName()).isEqualTo("player-7"));

        exporter.reset();
        gateway.hello("logic", "", "anyone");
        Await.until(Duration.ofSeconds(5), "two spans", () -> exporter.getFinishedSpanItems().size() >= 2);
        assertThat(exporter.getFinishedSpanItems()).allSatisfy(span -> assertThat(span.getAttributes().get(PLAYER)).isNull());
    }

    @Test
    void hashedPlayersShowTheKeyedHashOnEveryNodeNeverTheToken() {
        TracePlayers hashed = TracePlayers.hashed(SECRET);
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk())
                .withPlayers(hashed));
        cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdk()).withPlayers(TracePlayers.hashed(SECRET)));
        cluster.start(TestCluster.Spec.of("store", "store-1").withTracing(sdk()).withPlayers(TracePlayers.hashed(SECRET)));

        relay(gateway, "player-7");
        Await.until(Duration.ofSeconds(5), "four spans", () -> exporter.getFinishedSpanItems().size() >= 4);
        String shown = hashed.show("player-7");
        assertThat(shown).matches("[0-9a-f]{16}")
                .isNotEqualTo(TracePlayers.hashed(SECRET.replace('a', 'b')).show("player-7"))
                .isNotEqualTo(hashed.show("player-8"));
        assertThat(exporter.getFinishedSpanItems()).hasSize(4).allSatisfy(span -> {
            assertThat(span.getAttributes().get(PLAYER)).isEqualTo(shown);
            assertThat(span.getAttributes().asMap().values()).noneMatch(value -> String.valueOf(value).contains("player-7"));
        });
    }

    @Test
    void offNamesNoPlayer() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                .withTracing(sdkWithBaggage()).withPlayers(TracePlayers.OFF));
        cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdkWithBaggage()).withPlayers(TracePlayers.OFF));
        cluster.start(TestCluster.Spec.of("store", "store-1").withTracing(sdkWithBaggage()).withPlayers(TracePlayers.OFF));

        relay(gateway, "player-7");
        Await.until(Duration.ofSeconds(5), "four spans", () -> exporter.getFinishedSpanItems().size() >= 4);
        assertThat(exporter.getFinishedSpanItems()).hasSize(4)
                .allSatisfy(span -> assertThat(span.getAttributes().get(PLAYER)).isNull());
    }

    @Test
    void aLaneCallsWaitAndRunAreChildrenOfItsServerSpan() throws Exception {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdk()));
        CountDownLatch release = new CountDownLatch(1);
        logic.server.handleInLane("move", StringValue.parser(), (ctx, request) -> {
            if (request.getValue().equals("hold")) {
                release.await(10, TimeUnit.SECONDS);
            }
            return StringValue.of("moved " + request.getValue());
        });

        CompletableFuture<StringValue> first = move(gateway, "player-9", "hold");
        Await.until(Duration.ofSeconds(5), "the first call holds the lane", () -> logic.server.laneCount() == 1);
        CompletableFuture<StringValue> second = move(gateway, "player-9", "next");
        Await.until(Duration.ofSeconds(5), "the second call waits", () -> logic.server.laneWaiting("player-9") == 1);
        long held = System.nanoTime();
        Await.until(Duration.ofSeconds(5), "20 ms of waiting", () -> System.nanoTime() - held >= 20_000_000L);
        release.countDown();
        assertThat(first.get(5, TimeUnit.SECONDS).getValue()).isEqualTo("moved hold");
        assertThat(second.get(5, TimeUnit.SECONDS).getValue()).isEqualTo("moved next");

        Await.until(Duration.ofSeconds(5), "two calls' spans", () -> exporter.getFinishedSpanItems().size() >= 8);
        List<SpanData> spans = exporter.getFinishedSpanItems();
        List<SpanData> servers = spans.stream()
                .filter(s -> s.getName().equals("logic/move") && s.getKind() == SpanKind.SERVER).toList();
        assertThat(servers).hasSize(2);
        SpanData waited = servers.stream()
                .max((a, b) -> Double.compare(waitMs(a), waitMs(b))).orElseThrow();
        assertThat(waitMs(waited)).isGreaterThanOrEqualTo(20.0);
        SpanData wait = childOf(spans, waited, "logic lane wait");
        SpanData run = childOf(spans, waited, "logic lane run");
        assertThat(wait.getKind()).isEqualTo(SpanKind.INTERNAL);
        assertThat(wait.getStartEpochNanos()).isEqualTo(waited.getStartEpochNanos());
        assertThat(wait.getEndEpochNanos() - wait.getStartEpochNanos()).isGreaterThanOrEqualTo(20_000_000L);
        assertThat(run.getStartEpochNanos()).isEqualTo(wait.getEndEpochNanos());
        assertThat(run.getEndEpochNanos()).isLessThanOrEqualTo(waited.getEndEpochNanos());
        assertThat(List.of(waited, wait, run)).allSatisfy(s -> assertThat(s.getAttributes().get(PLAYER)).isEqualTo("player-9"));
        // The caller's CLIENT span covers the whole wait: the SERVER span begins after it.
        SpanData client = spans.stream().filter(s -> s.getSpanId().equals(waited.getParentSpanId())).findFirst().orElseThrow();
        assertThat(client.getKind()).isEqualTo(SpanKind.CLIENT);
        assertThat(waited.getStartEpochNanos()).isGreaterThanOrEqualTo(client.getStartEpochNanos() - 5_000_000L);
    }

    @Test
    void aPushFromALogicNodeToTheGatewayIsOneTraceWithThePlayer() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        OpenTelemetrySdk logicSdk = sdk();
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(logicSdk));
        List<String> pushed = new CopyOnWriteArrayList<>();
        gateway.server.handleInLane("braid.gateway.push", StringValue.parser(), (ctx, request) -> {
            pushed.add(ctx.token() + ":" + request.getValue());
            return StringValue.of("sent");
        });

        Span tick = logicSdk.getTracer("test").spanBuilder("game tick").startSpan();
        try (Scope ignored = tick.makeCurrent()) {
            logic.client.invoke("gateway", "braid.gateway.push", "player-3", StringValue.of("you won"),
                    StringValue.parser()).join();
        } finally {
            tick.end();
        }
        Await.until(Duration.ofSeconds(5), "the push's spans", () -> exporter.getFinishedSpanItems().stream()
                .anyMatch(s -> s.getName().equals("gateway/braid.gateway.push")));
        List<SpanData> spans = exporter.getFinishedSpanItems();
        SpanData client = spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).findFirst().orElseThrow();
        SpanData server = spans.stream().filter(s -> s.getName().equals("gateway/braid.gateway.push")).findFirst()
                .orElseThrow();
        assertThat(pushed).containsExactly("player-3:you won");
        assertThat(client.getName()).isEqualTo("gateway/braid.gateway.push");
        assertThat(client.getParentSpanId()).isEqualTo(tick.getSpanContext().getSpanId());
        assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(server.getTraceId()).isEqualTo(tick.getSpanContext().getTraceId());
        assertThat(server.getParentSpanId()).isEqualTo(client.getSpanId());
        assertThat(client.getAttributes().get(PLAYER)).isEqualTo("player-3");
        assertThat(server.getAttributes().get(PLAYER)).isEqualTo("player-3");
        assertThat(server.getAttributes().get(AttributeKey.stringKey(BraidSpans.BRAID_NODE))).isEqualTo("gateway-1");
    }

    @Test
    void baggageCarriesThePlayerAcrossTwoHopsWithoutATokenAndOntoAPublish() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdkWithBaggage()));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdkWithBaggage()));
        TestCluster.TestNode store = cluster.start(TestCluster.Spec.of("store", "store-1").withTracing(sdkWithBaggage()));
        TestCluster.TestNode audit = cluster.start(TestCluster.Spec.of("audit", "audit-1").withTracing(sdkWithBaggage()));
        // logic → store → audit, neither call with a token: only the baggage knows the player.
        logic.server.handle("save", StringValue.parser(), (ctx, request) -> logic.client.invoke("store", "save", "",
                request, StringValue.parser()).join());
        store.server.handle("save", StringValue.parser(), (ctx, request) -> {
            store.pubsub.topic("saved").publish(request.getValue().getBytes(StandardCharsets.UTF_8)).join();
            return store.client.invoke("audit", "hello", "", request, StringValue.parser()).join();
        });
        List<Message> delivered = new CopyOnWriteArrayList<>();
        audit.pubsub.topic("saved").subscribe("audit").onMessage(delivered::add);

        gateway.client.invoke("logic", "save", "player-5", StringValue.of("game"), StringValue.parser()).join();
        Await.until(Duration.ofSeconds(5), "the spans of three calls, a publish and its delivery", () ->
                exporter.getFinishedSpanItems().size() >= 8);

        List<SpanData> spans = exporter.getFinishedSpanItems();
        assertThat(spans).extracting(SpanData::getName).contains("store/save", "audit/hello", "saved publish",
                "saved/audit process");
        assertThat(spans).extracting(SpanData::getTraceId).containsOnly(spans.get(0).getTraceId());
        assertThat(spans).allSatisfy(span ->
                assertThat(span.getAttributes().get(PLAYER)).as(span.getName()).isEqualTo("player-5"));
        assertThat(delivered).hasSize(1);
        assertThat(delivered.get(0).headers()).containsKey("baggage");
    }

    @Test
    void withoutBaggageInThePropagatorsAHopWithoutATokenIsNotTagged() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdk()));
        cluster.start(TestCluster.Spec.of("store", "store-1").withTracing(sdk()));
        logic.server.handle("save", StringValue.parser(), (ctx, request) -> logic.client.invoke("store", "hello", "",
                request, StringValue.parser()).join());

        gateway.client.invoke("logic", "save", "player-5", StringValue.of("game"), StringValue.parser()).join();
        Await.until(Duration.ofSeconds(5), "four spans", () -> exporter.getFinishedSpanItems().size() >= 4);
        List<SpanData> spans = exporter.getFinishedSpanItems();
        // On the node that served the player's call, its own calls still know the player (in-process baggage)...
        assertThat(spans.stream().filter(s -> s.getName().equals("store/hello") && s.getKind() == SpanKind.CLIENT))
                .singleElement().satisfies(s -> assertThat(s.getAttributes().get(PLAYER)).isEqualTo("player-5"));
        // ...but the next node cannot: nothing carried it over the wire.
        assertThat(spans.stream().filter(s -> s.getName().equals("store/hello") && s.getKind() == SpanKind.SERVER))
                .singleElement().satisfies(s -> assertThat(s.getAttributes().get(PLAYER)).isNull());
    }

    @Test
    void aCallsOwnTokenWinsOverTheBaggageAndGarbageBaggageBreaksNothing() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdkWithBaggage()));
        // The gateway's propagators leave "baggage" alone: what the test puts there reaches logic as sent.
        String claimed = gateway.client.invoke("logic", "hello", "player-1", StringValue.of("a"), StringValue.parser(),
                io.braid.api.CallOptions.DEFAULT.withMetadata("baggage", "braid.player=someone-else")).join().getValue();
        String garbage = gateway.client.invoke("logic", "hello", "", StringValue.of("b"), StringValue.parser(),
                io.braid.api.CallOptions.DEFAULT.withMetadata("baggage", "=;;,,%zz=\u0000" + "x".repeat(10_000)))
                .join().getValue();
        assertThat(claimed).isEqualTo("hello a from logic-1");
        assertThat(garbage).isEqualTo("hello b from logic-1");
        Await.until(Duration.ofSeconds(5), "two server spans", () -> exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getKind() == SpanKind.SERVER).count() == 2);
        List<SpanData> servers = exporter.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.SERVER)
                .toList();
        assertThat(servers).extracting(s -> s.getAttributes().get(PLAYER)).containsExactlyInAnyOrder("player-1", null);
    }

    private static void relay(TestCluster.TestNode from, String token) {
        from.client.invoke("logic", "relay", token, StringValue.of("store"), StringValue.parser()).join();
    }

    private static CompletableFuture<StringValue> move(TestCluster.TestNode from, String token, String what) {
        return from.client.invoke("logic", "move", token, StringValue.of(what), StringValue.parser());
    }

    private static double waitMs(SpanData span) {
        Double ms = span.getAttributes().get(AttributeKey.doubleKey(BraidSpans.BRAID_LANE_WAIT_MS));
        return ms == null ? -1 : ms;
    }

    private static SpanData childOf(List<SpanData> spans, SpanData parent, String name) {
        List<SpanData> found = spans.stream()
                .filter(s -> s.getName().equals(name) && s.getParentSpanId().equals(parent.getSpanId())).toList();
        assertThat(found).as(name + " under " + parent.getName() + " among " + spans).hasSize(1);
        return found.get(0);
    }
}
