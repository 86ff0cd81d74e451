package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.braid.testkit.Await;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A player's work through a real gateway is traced with the player on every span: a call the
 * client makes (gateway CLIENT span → logic SERVER span) and a push a logic node sends back (logic
 * CLIENT span → the gateway's SERVER span of {@code braid.gateway.push}), each one trace. Every node
 * has its own SDK, as separate processes would; only the W3C context in the call metadata joins them.
 */
class GatewayTracingTest {
    private static final AttributeKey<String> PLAYER = AttributeKey.stringKey("braid.player");
    private static final AttributeKey<String> NODE = AttributeKey.stringKey("braid.node");

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final List<OpenTelemetrySdk> sdks = new CopyOnWriteArrayList<>();

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
        sdks.forEach(OpenTelemetrySdk::close);
    }

    @Test
    void aClientsCallAndAPushBackToItAreEachOneTraceCarryingThePlayer() throws Exception {
        try (GatewayFixture cluster = GatewayFixture.inMemory(node -> node.openTelemetry(sdk()))) {
            GatewayFixture.GatewayNode gateway = cluster.gateway("gateway-1");
            TestClient client = TestClient.tcp(gateway.tcp());
            client.login("player:ann");

            assertThat(TestClient.utf8(client.call("logic.player.act", "jump").getPayload()))
                    .isEqualTo("acted:player:ann:jump");
            SpanData routed = awaitSpan("logic/player.act", SpanKind.CLIENT, "gateway-1");
            SpanData acted = awaitSpan("logic/player.act", SpanKind.SERVER, "logic-1");
            assertThat(acted.getTraceId()).isEqualTo(routed.getTraceId());
            assertThat(acted.getParentSpanId()).isEqualTo(routed.getSpanId());
            assertThat(List.of(routed, acted)).allSatisfy(span ->
                    assertThat(span.getAttributes().get(PLAYER)).isEqualTo("player:ann"));

            long seq = cluster.pusher().push("player:ann", "reward".getBytes(StandardCharsets.UTF_8)).join();
            client.await(frame -> frame.hasPush() && frame.getPush().getPushSeq() == seq, "the push");
            assertThat(client.pushes()).extracting(push -> push.getPayload()).contains(ByteString.copyFromUtf8("reward"));
            SpanData pushed = awaitSpan("gateway/" + Gateway.PUSH_METHOD, SpanKind.CLIENT, "logic-1");
            SpanData written = awaitSpan("gateway/" + Gateway.PUSH_METHOD, SpanKind.SERVER, "gateway-1");
            assertThat(written.getTraceId()).isEqualTo(pushed.getTraceId());
            assertThat(written.getParentSpanId()).isEqualTo(pushed.getSpanId());
            assertThat(List.of(pushed, written)).allSatisfy(span ->
                    assertThat(span.getAttributes().get(PLAYER)).isEqualTo("player:ann"));
            client.close();
        }
    }

    private SpanData awaitSpan(String name, SpanKind kind, String node) {
        Await.until(TestClient.WAIT, () -> kind + " span " + name + " on " + node + " among "
                + exporter.getFinishedSpanItems().stream().map(s -> s.getName() + "/" + s.getKind()).toList(),
                () -> find(name, kind, node) != null);
        return find(name, kind, node);
    }

    private SpanData find(String name, SpanKind kind, String node) {
        return exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals(name) && s.getKind() == kind && node.equals(s.getAttributes().get(NODE)))
                .reduce((first, later) -> later).orElse(null);
    }
}
