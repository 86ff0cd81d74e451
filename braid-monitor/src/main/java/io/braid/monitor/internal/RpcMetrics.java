package io.braid.monitor.internal;

import io.braid.api.BraidException;
import io.braid.api.ClientInterceptor;
import io.braid.api.Code;
import io.braid.api.IncomingCall;
import io.braid.api.OutgoingCall;
import io.braid.api.ServerInterceptor;
import io.braid.api.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Times every call a node makes and serves: {@link BraidMeters#RPC_CLIENT_CALLS} and
 * {@link BraidMeters#RPC_SERVER_CALLS} by service, method and code, with the 99th percentile over
 * the last minute. The monitor's own methods ({@code braid.stats} and the operator actions) are
 * not timed, so watching a cluster does not show up as its load. Durations are read from the
 * ticker handed in.
 */
public final class RpcMetrics {
    /** A timer's identity. */
    public record Key(String service, String method, Code code) {
    }

    private final MeterRegistry registry;
    private final String service;
    private final Set<String> untimed;
    private final Ticker ticker;
    private final Map<Key, Timer> clientTimers = new ConcurrentHashMap<>();
    private final Map<Key, Timer> serverTimers = new ConcurrentHashMap<>();

    public RpcMetrics(MeterRegistry registry, String service, Set<String> untimedMethods, Ticker ticker) {
        this.registry = registry;
        this.service = service;
        this.untimed = Set.copyOf(untimedMethods);
        this.ticker = ticker;
    }

    public ClientInterceptor clientInterceptor() {
        return this::interceptClient;
    }

    public ServerInterceptor serverInterceptor() {
        return this::interceptServer;
    }

    /** The server timers made so far (what this node served), for its stats. */
    public Map<Key, Timer> serverTimers() {
        return serverTimers;
    }

    private CompletableFuture<Object> interceptClient(OutgoingCall call, ClientInterceptor.Next next) {
        if (untimed.contains(call.method())) {
            return next.proceed(call);
        }
        long start = ticker.read();
        CompletableFuture<Object> answer;
        try {
            answer = next.proceed(call);
        } catch (RuntimeException e) {
            record(clientTimers, BraidMeters.RPC_CLIENT_CALLS, call.target(), call.method(), codeOf(e), start);
            throw e;
        }
        return EndFirst.then(answer, (value, failure) -> record(clientTimers, BraidMeters.RPC_CLIENT_CALLS,
                call.target(), call.method(), failure == null ? Code.OK : codeOf(failure), start));
    }

    private CompletionStage<Object> interceptServer(IncomingCall call, ServerInterceptor.Next next) {
        if (untimed.contains(call.method())) {
            return next.proceed(call);
        }
        long start = ticker.read();
        CompletionStage<Object> answer;
        try {
            answer = next.proceed(call);
        } catch (RuntimeException e) {
            record(serverTimers, BraidMeters.RPC_SERVER_CALLS, service, call.method(), codeOf(e), start);
            throw e;
        }
        // Recorded before the answer is sent: whoever sees the answer sees it counted.
        return EndFirst.then(answer, (value, failure) -> record(serverTimers,
                BraidMeters.RPC_SERVER_CALLS, service, call.method(), failure == null
                        ? (call.deadline().isExpired() ? Code.DEADLINE_EXCEEDED : Code.OK) : codeOf(failure), start));
    }

    /** The code a caller sees for this failure: a handler's non-braid exception answers INTERNAL. */
    static Code codeOf(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof BraidException braid ? braid.code() : Code.INTERNAL;
    }

    private void record(Map<Key, Timer> timers, String name, String service, String method, Code code, long start) {
        Key key = new Key(service, method, code);
        Timer timer = timers.computeIfAbsent(key, k -> Timer.builder(name)
                .description(name.equals(BraidMeters.RPC_CLIENT_CALLS)
                        ? "Calls this node made, by target service, method and answer code"
                        : "Calls this node served, by its service, method and answer code")
                .tag(BraidMeters.TAG_SERVICE, k.service())
                .tag(BraidMeters.TAG_METHOD, k.method())
                .tag(BraidMeters.TAG_CODE, k.code().name())
                .publishPercentiles(0.99)
                .distributionStatisticExpiry(Duration.ofMinutes(1))
                .distributionStatisticBufferLength(3)
                .register(registry));
        timer.record(ticker.read() - start, TimeUnit.NANOSECONDS);
    }
}
