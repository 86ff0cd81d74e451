package io.braid.gateway.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.SessionEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.ToDoubleFunction;

/**
 * The gateway's meters on its node's registry (exported on the node's {@code /metrics} with the
 * rest): sessions held by state, session events by type, pushes by outcome, Calls refused by the
 * rate limits. Names are in Prometheus form in braid-gateway's README; the Grafana dashboard's
 * "Gateway" row queries them ({@code GatewayMetersTest} checks each). Removed when the gateway
 * closes. Thread-safe.
 */
final class GatewayMeters implements AutoCloseable {
    static final String SESSIONS = "braid.gateway.sessions";
    static final String SESSION_EVENTS = "braid.gateway.session.events";
    static final String PUSHES = "braid.gateway.pushes";
    static final String RATE_LIMITED = "braid.gateway.rate.limited";

    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<SessionEvent.Type, Counter> events = new EnumMap<>(SessionEvent.Type.class);
    private final Counter pushesAccepted;
    private final Counter pushesNotFound;
    private final Counter pushesRefused;
    private final Counter rateLimited;

    GatewayMeters(MeterRegistry registry, String service, ToDoubleFunction<Session.State> sessionsIn) {
        this.registry = registry;
        for (String state : List.of("attached", "detached")) {
            Session.State counted = state.equals("attached") ? Session.State.BOUND : Session.State.DETACHED;
            meters.add(Gauge.builder(SESSIONS, counted, sessionsIn::applyAsDouble)
                    .description("Player sessions held by this gateway: attached (a connection) or detached (in the resume grace)")
                    .tag("service", service).tag("state", state).register(registry));
        }
        for (SessionEvent.Type type : SessionEvent.Type.values()) {
            Counter counter = Counter.builder(SESSION_EVENTS).description("Session events fired by this gateway")
                    .tag("service", service).tag("type", type.name()).register(registry);
            events.put(type, counter);
            meters.add(counter);
        }
        pushesAccepted = push(service, "accepted");
        pushesNotFound = push(service, "not_found");
        pushesRefused = push(service, "refused");
        rateLimited = Counter.builder(RATE_LIMITED).description("Calls refused by a session's rate limits")
                .tag("service", service).register(registry);
        meters.add(rateLimited);
    }

    private Counter push(String service, String outcome) {
        Counter counter = Counter.builder(PUSHES)
                .description("Pushes that reached this gateway: accepted (logged and numbered), not_found (no session), refused (the log could not take it, or the session moved)")
                .tag("service", service).tag("outcome", outcome).register(registry);
        meters.add(counter);
        return counter;
    }

    void event(SessionEvent.Type type) {
        events.get(type).increment();
    }

    /** A push's end: {@code failure} null when it was accepted. */
    void pushed(Throwable failure) {
        if (failure == null) {
            pushesAccepted.increment();
            return;
        }
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof BraidException e && e.code() == Code.NOT_FOUND) {
            pushesNotFound.increment();
        } else {
            pushesRefused.increment();
        }
    }

    void rateLimited() {
        rateLimited.increment();
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
    }
}
