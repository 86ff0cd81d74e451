package io.braid.monitor.internal;

import io.braid.api.ClientInterceptor;
import io.braid.api.IncomingCall;
import io.braid.api.OutgoingCall;
import io.braid.api.ServerInterceptor;
import io.braid.monitor.BraidSpans;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A CLIENT span around every call a node makes and a SERVER span around every call it serves. The
 * client injects the trace context into the call's metadata with the configured propagator (W3C
 * {@code traceparent} for the usual setup); the server extracts it and makes its span current
 * while the handler runs, so a call the handler makes (on the same thread) is the next span of the
 * same trace. Work a handler continues on other threads must carry {@link Context} itself.
 */
public final class RpcTracing {
    static final TextMapSetter<Map<String, String>> SETTER = (carrier, key, value) -> {
        if (carrier != null) {
            carrier.put(key, value);
        }
    };
    static final TextMapGetter<Map<String, String>> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final String service;
    private final String nodeId;
    private final Set<String> untraced;

    public RpcTracing(OpenTelemetry openTelemetry, String service, String nodeId, Set<String> untracedMethods) {
        this.tracer = openTelemetry.getTracer(BraidSpans.INSTRUMENTATION_SCOPE);
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
        this.service = service;
        this.nodeId = nodeId;
        this.untraced = Set.copyOf(untracedMethods);
    }

    public ClientInterceptor clientInterceptor() {
        return this::interceptClient;
    }

    public ServerInterceptor serverInterceptor() {
        return this::interceptServer;
    }

    private CompletableFuture<Object> interceptClient(OutgoingCall call, ClientInterceptor.Next next) {
        if (untraced.contains(call.method())) {
            return next.proceed(call);
        }
        Context parent = Context.current();
        Span span = tracer.spanBuilder(call.target() + "/" + call.method())
                .setSpanKind(SpanKind.CLIENT)
                .setParent(parent)
                .setAttribute(BraidSpans.RPC_SYSTEM, BraidSpans.SYSTEM)
                .setAttribute(BraidSpans.RPC_SERVICE, call.target())
                .setAttribute(BraidSpans.RPC_METHOD, call.method())
                .setAttribute(BraidSpans.BRAID_NODE, nodeId)
                .startSpan();
        Context context = parent.with(span);
        propagator.inject(context, call.metadata(), SETTER);
        CompletableFuture<Object> answer;
        try (Scope ignored = context.makeCurrent()) {
            answer = next.proceed(call);
        } catch (RuntimeException e) {
            end(span, e);
            throw e;
        }
        answer.whenComplete((value, failure) -> end(span, failure));
        return answer;
    }

    private CompletionStage<Object> interceptServer(IncomingCall call, ServerInterceptor.Next next) {
        if (untraced.contains(call.method())) {
            return next.proceed(call);
        }
        Context parent = propagator.extract(Context.root(), call.metadata(), GETTER);
        Span span = tracer.spanBuilder(service + "/" + call.method())
                .setSpanKind(SpanKind.SERVER)
                .setParent(parent)
                .setAttribute(BraidSpans.RPC_SYSTEM, BraidSpans.SYSTEM)
                .setAttribute(BraidSpans.RPC_SERVICE, service)
                .setAttribute(BraidSpans.RPC_METHOD, call.method())
                .setAttribute(BraidSpans.BRAID_NODE, nodeId)
                .startSpan();
        CompletionStage<Object> answer;
        try (Scope ignored = parent.with(span).makeCurrent()) {
            answer = next.proceed(call);
        } catch (RuntimeException e) {
            end(span, e);
            throw e;
        }
        answer.whenComplete((value, failure) -> end(span, failure));
        return answer;
    }

    static void end(Span span, Throwable failure) {
        span.setAttribute(BraidSpans.BRAID_CODE, failure == null ? "OK" : RpcMetrics.codeOf(failure).name());
        if (failure != null) {
            span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
            span.recordException(failure);
        }
        span.end();
    }
}
