package io.braid.monitor.internal;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.DeadLetter;
import io.braid.api.MessageHandler;
import io.braid.api.Pubsub;
import io.braid.api.Topic;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Pubsub} that traces: a PRODUCER span for each publish, whose context travels in the
 * message's headers ({@code traceparent}), and a CONSUMER span around each handler run, child of
 * the publisher's span and current while the handler runs. Everything else goes to the wrapped
 * pub-sub, which stays its owner's to close.
 */
public final class PubsubTracing implements Pubsub {
    private final Pubsub pubsub;
    private final Tracer tracer;
    private final TextMapPropagator propagator;

    public PubsubTracing(Pubsub pubsub, OpenTelemetry openTelemetry) {
        this.pubsub = pubsub;
        this.tracer = openTelemetry.getTracer(BraidSpans.INSTRUMENTATION_SCOPE);
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
    }

    /** The pub-sub this one traces. */
    public Pubsub traced() {
        return pubsub;
    }

    @Override
    public Topic topic(String name) {
        return new TracedTopic(pubsub.topic(name));
    }

    @Override
    public void close() {
        pubsub.close();
    }

    @Override
    public String toString() {
        return "PubsubTracing{" + pubsub + "}";
    }

    private final class TracedTopic implements Topic {
        private final Topic topic;

        TracedTopic(Topic topic) {
            this.topic = topic;
        }

        @Override
        public String name() {
            return topic.name();
        }

        @Override
        public CompletableFuture<String> publish(byte[] body, Map<String, String> headers) {
            if (headers == null) {
                return topic.publish(body, null); // the pubsub's own refusal, INVALID_ARGUMENT naming headers
            }
            Span span = tracer.spanBuilder(topic.name() + " publish")
                    .setSpanKind(SpanKind.PRODUCER)
                    .setAttribute(BraidSpans.MESSAGING_SYSTEM, BraidSpans.SYSTEM)
                    .setAttribute(BraidSpans.MESSAGING_DESTINATION, topic.name())
                    .startSpan();
            tagPlayer(span, Context.current());
            Map<String, String> carried = new LinkedHashMap<>(headers);
            propagator.inject(Context.current().with(span), carried, RpcTracing.SETTER);
            CompletableFuture<String> published;
            try (Scope ignored = span.makeCurrent()) {
                published = topic.publish(body, carried);
            } catch (RuntimeException e) {
                fail(span, e);
                throw e;
            }
            return EndFirst.then(published, (id, failure) -> {
                if (failure != null) {
                    fail(span, failure);
                } else {
                    span.setAttribute(BraidSpans.MESSAGING_MESSAGE_ID, id);
                    span.end();
                }
            });
        }

        @Override
        public Channel subscribe(String channel, ChannelOptions options) {
            return new TracedChannel(topic.subscribe(channel, options));
        }

        @Override
        public CompletableFuture<List<DeadLetter>> deadLetters(int limit) {
            return topic.deadLetters(limit);
        }

        @Override
        public CompletableFuture<Integer> replayDeadLetters(int limit) {
            return topic.replayDeadLetters(limit);
        }
    }

    private final class TracedChannel implements Channel {
        private final Channel channel;

        TracedChannel(Channel channel) {
            this.channel = channel;
        }

        @Override
        public String topic() {
            return channel.topic();
        }

        @Override
        public String name() {
            return channel.name();
        }

        @Override
        public void onMessage(MessageHandler handler) {
            channel.onMessage(message -> {
                Context parent = propagator.extract(Context.root(), message.headers(), RpcTracing.GETTER);
                Span span = tracer.spanBuilder(message.topic() + "/" + channel.name() + " process")
                        .setSpanKind(SpanKind.CONSUMER)
                        .setParent(parent)
                        .setAttribute(BraidSpans.MESSAGING_SYSTEM, BraidSpans.SYSTEM)
                        .setAttribute(BraidSpans.MESSAGING_DESTINATION, message.topic())
                        .setAttribute(BraidSpans.MESSAGING_CONSUMER_GROUP, channel.name())
                        .setAttribute(BraidSpans.MESSAGING_MESSAGE_ID, message.id())
                        .setAttribute(BraidSpans.BRAID_DELIVERY_COUNT, message.deliveryCount())
                        .startSpan();
                tagPlayer(span, parent);
                try (Scope ignored = parent.with(span).makeCurrent()) {
                    handler.handle(message);
                } catch (Exception | Error e) {
                    fail(span, e);
                    throw e;
                }
                span.end();
            });
        }

        @Override
        public void close() {
            channel.close();
        }
    }

    /**
     * A message is about a player when it was published during a player's work: the player's
     * baggage entry (put there by the call's tracing, shown as configured) names it, and travels in
     * the headers when the propagators include W3C baggage.
     */
    private static void tagPlayer(Span span, Context context) {
        String player = io.opentelemetry.api.baggage.Baggage.fromContext(context).getEntryValue(BraidSpans.BRAID_PLAYER);
        if (player != null) {
            span.setAttribute(BraidSpans.BRAID_PLAYER, player);
        }
    }

    private static void fail(Span span, Throwable failure) {
        span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
        span.recordException(failure);
        span.end();
    }
}
