package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Message;
import io.braid.monitor.internal.BraidSpans;
import io.braid.testkit.Await;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One trace across gateway → logic → store, and across a publish and its deliveries, recorded by
 * the OpenTelemetry SDK's in-memory exporter. Each node has its own SDK instance, as separate
 * processes would: only the W3C context in the call metadata and message headers joins them.
 */
class TracingTest {
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final List<OpenTelemetrySdk> sdks = new CopyOnWriteArrayList<>();
    private final TestCluster cluster = new TestCluster();

    private OpenTelemetrySdk sdk() {
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        sdks.add(sdk);
        return sdk;
    }

    @AfterEach
    void close() {
        cluster.close();
        sdks.forEach(OpenTelemetrySdk::close);
    }

    @Test
    void aTraceCrossesGatewayLogicAndAFurtherCall() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdk()));
        cluster.start(TestCluster.Spec.of("store", "store-1").withTracing(sdk()));

        String answer = gateway.client.invoke("logic", "relay", "player-7",
                com.google.protobuf.StringValue.of("store"), com.google.protobuf.StringValue.parser()).join().getValue();
        assertThat(answer).isEqualTo("hello logic-1 from store-1");

        Await.until(Duration.ofSeconds(5), "four spans", () -> exporter.getFinishedSpanItems().size() >= 4);
        List<SpanData> spans = exporter.getFinishedSpanItems();
        SpanData gatewayClient = one(spans, "logic/relay", SpanKind.CLIENT);
        SpanData logicServer = one(spans, "logic/relay", SpanKind.SERVER);
        SpanData logicClient = one(spans, "store/hello", SpanKind.CLIENT);
        SpanData storeServer = one(spans, "store/hello", SpanKind.SERVER);

        assertThat(spans).extracting(SpanData::getTraceId).containsOnly(gatewayClient.getTraceId());
        assertThat(gatewayClient.getParentSpanContext().isValid()).isFalse();
        assertThat(logicServer.getParentSpanId()).isEqualTo(gatewayClient.getSpanId());
        assertThat(logicServer.getParentSpanContext().isRemote()).isTrue();
        assertThat(logicClient.getParentSpanId()).isEqualTo(logicServer.getSpanId());
        assertThat(storeServer.getParentSpanId()).isEqualTo(logicClient.getSpanId());
        assertThat(gatewayClient.getAttributes().asMap()).containsValues("braid", "logic", "relay", "OK", "gateway-1");
        assertThat(storeServer.getAttributes().asMap()).containsValues("store", "hello", "OK", "store-1");
    }

    @Test
    void aFailedCallEndsItsSpansAsErrors() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdk()));
        gateway.client.invoke("logic", "fail", "", com.google.protobuf.StringValue.of("x"),
                com.google.protobuf.StringValue.parser()).exceptionally(failure -> null).join();
        Await.until(Duration.ofSeconds(5), "two spans", () -> exporter.getFinishedSpanItems().size() >= 2);
        for (SpanData span : exporter.getFinishedSpanItems()) {
            assertThat(span.getStatus().getStatusCode()).isEqualTo(io.opentelemetry.api.trace.StatusCode.ERROR);
            assertThat(span.getAttributes().asMap()).containsValue("INTERNAL");
        }
    }

    @Test
    void aPublishAndItsDeliveriesAreOneTrace() {
        OpenTelemetrySdk gatewaySdk = sdk();
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(gatewaySdk));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1").withTracing(sdk()));
        List<Message> received = new CopyOnWriteArrayList<>();
        List<String> currentTraces = new CopyOnWriteArrayList<>();
        logic.pubsub.topic("chat.world").subscribe("logic-1").onMessage(message -> {
            received.add(message);
            currentTraces.add(Span.current().getSpanContext().getTraceId());
        });

        Span request = gatewaySdk.getTracer("test").spanBuilder("player request").startSpan();
        try (Scope ignored = request.makeCurrent()) {
            gateway.pubsub.topic("chat.world").publish("hi".getBytes(StandardCharsets.UTF_8)).join();
        } finally {
            request.end();
        }
        Await.until(Duration.ofSeconds(5), "the delivery's span", () -> exporter.getFinishedSpanItems().stream()
                .anyMatch(s -> s.getKind() == SpanKind.CONSUMER));

        List<SpanData> spans = exporter.getFinishedSpanItems();
        SpanData producer = one(spans, "chat.world publish", SpanKind.PRODUCER);
        SpanData consumer = one(spans, "chat.world/logic-1 process", SpanKind.CONSUMER);
        assertThat(producer.getTraceId()).isEqualTo(request.getSpanContext().getTraceId());
        assertThat(producer.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
        assertThat(consumer.getTraceId()).isEqualTo(producer.getTraceId());
        assertThat(consumer.getParentSpanId()).isEqualTo(producer.getSpanId());
        assertThat(currentTraces).containsExactly(producer.getTraceId());
        // The context travels in the W3C header; braid's reserved headers are untouched.
        assertThat(received).hasSize(1);
        assertThat(received.get(0).headers()).containsKey(BraidSpans.TRACEPARENT);
        assertThat(received.get(0).headers().get(BraidSpans.TRACEPARENT)).contains(producer.getTraceId())
                .contains(producer.getSpanId());
        assertThat(received.get(0).headers().keySet()).noneMatch(key -> key.startsWith("braid-"));
    }

    @Test
    void withoutOpenTelemetryNoContextIsSent() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1"));
        TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
        List<Message> received = new CopyOnWriteArrayList<>();
        logic.pubsub.topic("quiet").subscribe("logic-1").onMessage(received::add);
        gateway.pubsub.topic("quiet").publish("x".getBytes(StandardCharsets.UTF_8)).join();
        Await.until(Duration.ofSeconds(5), "the delivery", () -> received.size() == 1);
        assertThat(received.get(0).headers()).isEmpty();
        assertThat(gateway.pubsub).isSameAs(gateway.rawPubsub);
    }

    @Test
    void aTracedPublishRefusesBadArgumentsTheWayThePubsubDoes() {
        TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1").withTracing(sdk()));
        assertThat(gateway.pubsub).isNotSameAs(gateway.rawPubsub);
        // The project's rule: a call that returns a future reports bad arguments through it.
        java.util.concurrent.CompletableFuture<String> published =
                gateway.pubsub.topic("chat.world").publish("hi".getBytes(StandardCharsets.UTF_8), null);
        assertThat(published).failsWithin(Duration.ofSeconds(5))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .havingCause().isInstanceOf(io.braid.api.BraidException.class)
                .satisfies(e -> assertThat(((io.braid.api.BraidException) e).code()).isEqualTo(io.braid.api.Code.INVALID_ARGUMENT))
                .withMessageContaining("headers");
    }

    private static SpanData one(List<SpanData> spans, String name, SpanKind kind) {
        List<SpanData> found = spans.stream().filter(s -> s.getName().equals(name) && s.getKind() == kind).toList();
        assertThat(found).as(kind + " span " + name + " among " + spans).hasSize(1);
        return found.get(0);
    }
}
