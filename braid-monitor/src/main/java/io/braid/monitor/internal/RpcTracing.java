package io.braid.monitor.internal;

import io.braid.api.ClientInterceptor;
import io.braid.api.IncomingCall;
import io.braid.api.OutgoingCall;
import io.braid.api.ServerInterceptor;
import io.braid.api.internal.LaneListener;
import io.braid.monitor.TracePlayers;
import io.opentelemetry.api.baggage.Baggage;
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
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A CLIENT span around every call a node makes and a SERVER span around every call it serves. The
 * client injects the trace context into the call's metadata with the configured propagator (W3C
 * {@code traceparent} for the usual setup); the server extracts it and makes its span current
 * while the handler runs, so a call the handler makes (on the same thread) is the next span of the
 * same trace. Work a handler continues on other threads must carry {@link Context} itself.
 *
 * <p>The player: a span of a call with a token carries {@link BraidSpans#BRAID_PLAYER} (the token
 * as {@link TracePlayers} shows it), and the call's context carries it as a baggage entry of the
 * same name, which the configured propagators send on when they include W3C baggage; a span of a
 * call without a token takes the player from that baggage, so hops downstream of a player's call
 * are tagged too.
 *
 * <p>A call that ran in its token's lane (the served call tells its wait,
 * {@link LaneListener.Timed}) gets a SERVER span from its arrival in the lane to its answer, with
 * two INTERNAL children: {@code <service> lane wait} (arrival to start) and {@code <service> lane
 * run} (start to answer, current while the handler runs, so the handler's own calls nest under
 * it). Children rather than attributes because a trace viewer draws them as two bars under the
 * call: queue time and run time read at a glance, and the calls the handler made sit inside the
 * run. The SERVER span also carries {@link BraidSpans#BRAID_LANE_WAIT_MS}, for searching.
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
    private final TracePlayers players;

    /** Players shown {@link TracePlayers#PLAIN}. */
    public RpcTracing(OpenTelemetry openTelemetry, String service, String nodeId, Set<String> untracedMethods) {
        this(openTelemetry, service, nodeId, untracedMethods, TracePlayers.PLAIN);
    }

    public RpcTracing(OpenTelemetry openTelemetry, String service, String nodeId, Set<String> untracedMethods,
                      TracePlayers players) {
        this.tracer = openTelemetry.getTracer(BraidSpans.INSTRUMENTATION_SCOPE);
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
        this.service = service;
        this.nodeId = nodeId;
        this.untraced = Set.copyOf(untracedMethods);
        this.players = players;
    }

    /** The player of a call with {@code token} in {@code context}: its own token shown, else the baggage's entry. */
    private String player(String token, Context context) {
        if (!players.named()) {
            return null;
        }
        String own = token == null ? null : players.show(token);
        return own != null ? own : Baggage.fromContext(context).getEntryValue(BraidSpans.BRAID_PLAYER);
    }

    /** {@code context} whose baggage names {@code player} (the same context when it already does, or no player). */
    private static Context withPlayer(Context context, String player) {
        if (player == null) {
            return context;
        }
        Baggage baggage = Baggage.fromContext(context);
        if (player.equals(baggage.getEntryValue(BraidSpans.BRAID_PLAYER))) {
            return context;
        }
        return context.with(baggage.toBuilder().put(BraidSpans.BRAID_PLAYER, player).build());
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
        String player = player(call.token(), parent);
        var builder = tracer.spanBuilder(call.target() + "/" + call.method())
                .setSpanKind(SpanKind.CLIENT)
                .setParent(parent)
                .setAttribute(BraidSpans.RPC_SYSTEM, BraidSpans.SYSTEM)
                .setAttribute(BraidSpans.RPC_SERVICE, call.target())
                .setAttribute(BraidSpans.RPC_METHOD, call.method())
                .setAttribute(BraidSpans.BRAID_NODE, nodeId);
        if (player != null) {
            builder.setAttribute(BraidSpans.BRAID_PLAYER, player);
        }
        Span span = builder.startSpan();
        Context context = withPlayer(parent, player).with(span);
        propagator.inject(context, call.metadata(), SETTER);
        CompletableFuture<Object> answer;
        try (Scope ignored = context.makeCurrent()) {
            answer = next.proceed(call);
        } catch (RuntimeException e) {
            end(span, e);
            throw e;
        }
        return EndFirst.then(answer, (value, failure) -> end(span, failure));
    }

    private CompletionStage<Object> interceptServer(IncomingCall call, ServerInterceptor.Next next) {
        if (untraced.contains(call.method())) {
            return next.proceed(call);
        }
        Context parent = propagator.extract(Context.root(), call.metadata(), GETTER);
        String player = player(call.token(), parent);
        long waitNanos = call instanceof LaneListener.Timed laned ? laned.laneWaitNanos() : -1;
        var builder = tracer.spanBuilder(service + "/" + call.method())
                .setSpanKind(SpanKind.SERVER)
                .setParent(parent)
                .setAttribute(BraidSpans.RPC_SYSTEM, BraidSpans.SYSTEM)
                .setAttribute(BraidSpans.RPC_SERVICE, service)
                .setAttribute(BraidSpans.RPC_METHOD, call.method())
                .setAttribute(BraidSpans.BRAID_NODE, nodeId);
        if (player != null) {
            builder.setAttribute(BraidSpans.BRAID_PLAYER, player);
        }
        Span span;
        Span run = null;
        Context context;
        if (waitNanos >= 0) {
            Instant now = Instant.now();
            long startedNanos = TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano();
            long arrivedNanos = startedNanos - waitNanos;
            span = builder.setStartTimestamp(arrivedNanos, TimeUnit.NANOSECONDS)
                    .setAttribute(BraidSpans.BRAID_LANE_WAIT_MS, waitNanos / 1e6)
                    .startSpan();
            Context inCall = withPlayer(parent, player).with(span);
            child(inCall, BraidSpans.LANE_WAIT_SUFFIX, player, arrivedNanos).end(startedNanos, TimeUnit.NANOSECONDS);
            run = child(inCall, BraidSpans.LANE_RUN_SUFFIX, player, startedNanos);
            context = inCall.with(run);
        } else {
            span = builder.startSpan();
            context = withPlayer(parent, player).with(span);
        }
        Span laneRun = run;
        CompletionStage<Object> answer;
        try (Scope ignored = context.makeCurrent()) {
            answer = next.proceed(call);
        } catch (RuntimeException e) {
            if (laneRun != null) {
                laneRun.end();
            }
            end(span, e);
            throw e;
        }
        // The reply is written by a continuation of the stage returned here: the span has ended
        // before the caller can hear the answer.
        return answer.whenComplete((value, failure) -> {
            if (laneRun != null) {
                laneRun.end();
            }
            end(span, failure);
        });
    }

    /** An INTERNAL child of a lane call's SERVER span, starting at {@code startNanos} (epoch). */
    private Span child(Context parent, String suffix, String player, long startNanos) {
        var builder = tracer.spanBuilder(service + suffix)
                .setSpanKind(SpanKind.INTERNAL)
                .setParent(parent)
                .setStartTimestamp(startNanos, TimeUnit.NANOSECONDS)
                .setAttribute(BraidSpans.BRAID_NODE, nodeId);
        if (player != null) {
            builder.setAttribute(BraidSpans.BRAID_PLAYER, player);
        }
        return builder.startSpan();
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
