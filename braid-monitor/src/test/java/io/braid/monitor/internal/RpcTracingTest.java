package io.braid.monitor.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.CallOptions;
import io.braid.api.Deadline;
import io.braid.api.OutgoingCall;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a caller sees of its own call's span once the answer is in its hands. CompletableFuture
 * runs the dependents of one future last-registered first, so a span ended by a dependent of the
 * future handed to the caller would still be open when the caller's own continuation runs.
 */
class RpcTracingTest {
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
            .build();
    private final RpcTracing tracing = new RpcTracing(sdk, "gateway", "gateway-1", Set.of());

    @AfterEach
    void close() {
        sdk.close();
    }

    @Test
    void theCallersContinuationRunsAfterTheClientSpanEnded() {
        CompletableFuture<Object> wire = new CompletableFuture<>();
        CompletableFuture<Object> answer = tracing.clientInterceptor().intercept(call("logic", "hello"), c -> wire);
        CompletableFuture<List<SpanData>> seenByCaller = answer.thenApply(value -> exporter.getFinishedSpanItems());

        wire.complete("hi");

        assertThat(seenByCaller.join()).as("spans finished when the caller's continuation ran")
                .anyMatch(s -> s.getName().equals("logic/hello") && s.getKind() == SpanKind.CLIENT);
        assertThat(answer.join()).isEqualTo("hi");
    }

    @Test
    void aFailedCallsSpanHasEndedBeforeTheCallerHearsOfTheFailure() {
        CompletableFuture<Object> wire = new CompletableFuture<>();
        CompletableFuture<Object> answer = tracing.clientInterceptor().intercept(call("logic", "hello"), c -> wire);
        CompletableFuture<List<SpanData>> seenByCaller = answer.handle((value, failure) -> exporter.getFinishedSpanItems());

        wire.completeExceptionally(new IllegalStateException("gone"));

        assertThat(seenByCaller.join()).anyMatch(s -> s.getName().equals("logic/hello")
                && s.getStatus().getStatusCode() == io.opentelemetry.api.trace.StatusCode.ERROR);
        assertThat(answer).isCompletedExceptionally();
    }

    @Test
    void cancellingTheCallersFutureCancelsTheCallUnderneath() {
        CompletableFuture<Object> wire = new CompletableFuture<>();
        CompletableFuture<Object> answer = tracing.clientInterceptor().intercept(call("logic", "hello"), c -> wire);

        answer.cancel(false);

        assertThat(wire).isCancelled();
        assertThat(exporter.getFinishedSpanItems()).singleElement()
                .satisfies(s -> assertThat(s.getStatus().getStatusCode()).isEqualTo(io.opentelemetry.api.trace.StatusCode.ERROR));
    }

    private static OutgoingCall call(String target, String method) {
        Map<String, String> metadata = new HashMap<>();
        Deadline deadline = Deadline.after(Duration.ofSeconds(5));
        return new OutgoingCall() {
            @Override
            public String target() {
                return target;
            }

            @Override
            public String method() {
                return method;
            }

            @Override
            public String token() {
                return "";
            }

            @Override
            public Map<String, String> metadata() {
                return metadata;
            }

            @Override
            public Deadline deadline() {
                return deadline;
            }

            @Override
            public void tightenDeadline(Deadline earlier) {
            }

            @Override
            public CallOptions options() {
                return CallOptions.DEFAULT;
            }

            @Override
            public Map<String, String> responseMetadata() {
                return Map.of();
            }
        };
    }
}
