package io.braid.monitor.internal;

import io.braid.api.internal.PlayerListener.NotMoved;
import io.braid.monitor.TracePlayers;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A span per player hand-over, made when its end is told (the hand-over runs in the player's lane
 * on a thread of the node's, under no trace of its own): on the old owner {@code <service> hand
 * over} from its start to the known outcome, with {@link BraidSpans#BRAID_OUTCOME} and
 * {@link BraidSpans#BRAID_TARGET_NODE}; on the target {@code <service> take over} from the offer to
 * the outcome that moved the player there (its activation follows). The two are separate traces
 * (the hand-over messages carry no trace context); {@link BraidSpans#BRAID_PLAYER} joins them,
 * and the player's calls before and after. Thread-safe.
 */
final class HandoffTracing {
    static final String HAND_OVER_SUFFIX = " hand over";
    static final String TAKE_OVER_SUFFIX = " take over";

    private final Tracer tracer;
    private final String service;
    private final String nodeId;
    private final TracePlayers players;

    HandoffTracing(OpenTelemetry openTelemetry, String service, String nodeId, TracePlayers players) {
        this.tracer = openTelemetry.getTracer(BraidSpans.INSTRUMENTATION_SCOPE);
        this.service = service;
        this.nodeId = nodeId;
        this.players = players;
    }

    void handOverEnded(String token, String toNode, NotMoved notMoved, Duration took) {
        String outcome = notMoved == null ? BraidMeters.OUTCOME_HANDED_OVER : notMoved.name().toLowerCase(Locale.ROOT);
        Span span = started(service + HAND_OVER_SUFFIX, token, took)
                .setAttribute(BraidSpans.BRAID_OUTCOME, outcome);
        if (toNode != null) {
            span.setAttribute(BraidSpans.BRAID_TARGET_NODE, toNode);
        }
        if (notMoved == NotMoved.FAILED) {
            span.setStatus(StatusCode.ERROR, "the player's state could not be snapshotted");
        }
        span.end();
    }

    void handOverReceived(String token, long epoch, Duration held) {
        started(service + TAKE_OVER_SUFFIX, token, held).setAttribute(BraidSpans.BRAID_EPOCH, epoch).end();
    }

    private Span started(String name, String token, Duration took) {
        Instant now = Instant.now();
        long nowNanos = TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano();
        SpanBuilder builder = tracer.spanBuilder(name).setSpanKind(SpanKind.INTERNAL).setNoParent()
                .setStartTimestamp(nowNanos - Math.max(0, took.toNanos()), TimeUnit.NANOSECONDS)
                .setAttribute(BraidSpans.BRAID_NODE, nodeId);
        String player = players.show(token);
        if (player != null) {
            builder.setAttribute(BraidSpans.BRAID_PLAYER, player);
        }
        return builder.startSpan();
    }
}
