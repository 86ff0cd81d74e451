package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientInterceptor;
import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.api.OutgoingCall;
import io.braid.api.Ticker;
import io.braid.rpc.internal.lane.LaneChain;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What every call and every stream goes through before it is routed: its deadline, made once from
 * its options (or the client's default timeout) on the client's ticker, then the client
 * interceptors in order: braid's deadline propagation first (unless turned off), then the user's.
 * The lane chain of the call this thread serves ({@link LaneChain}) is put into its metadata first,
 * whatever the interceptors (it is what lets a server refuse a call back into a held lane).
 * When deadline propagation is the whole chain (the default) it runs in place, without building
 * the chain. Immutable and thread-safe.
 *
 * <p>For a unary call the future the interceptors chain on is the call's answer; for a stream it
 * is the stream's end (completes with null when the stream ends OK, fails with its code
 * otherwise). An interceptor that refuses a stream (a failed future, or a throw) ends it with that
 * failure; one that answers a stream without proceeding ends it INTERNAL.
 */
public final class ClientCallChain {
    /** The end of the chain: sends the call with the deadline and metadata the interceptors left. */
    @FunctionalInterface
    public interface Sender<R> {
        CompletableFuture<R> send(Deadline deadline, Map<String, String> metadata);
    }

    private final boolean propagateDeadlines;
    private final List<ClientInterceptor> interceptors;
    private final Duration defaultTimeout;
    private final Ticker ticker;

    /** @param defaultTimeout and {@code ticker}: a call's own deadline, when its options set none */
    public ClientCallChain(boolean propagateDeadlines, List<ClientInterceptor> userInterceptors,
                           Duration defaultTimeout, Ticker ticker) {
        this.defaultTimeout = defaultTimeout;
        this.ticker = ticker;
        List<ClientInterceptor> chain = new ArrayList<>();
        if (propagateDeadlines) {
            chain.add(new DeadlinePropagation());
        }
        chain.addAll(userInterceptors);
        this.propagateDeadlines = propagateDeadlines;
        this.interceptors = List.copyOf(chain);
    }

    /**
     * A call's own deadline, on the client's ticker, made once at the entry point: its options'
     * timeout (else the client's default), or the earlier deadline the options set.
     */
    Deadline deadlineOf(CallOptions options) {
        Deadline own = Deadline.after(options.timeout() != null ? options.timeout() : defaultTimeout, ticker);
        return options.deadline() == null ? own : options.deadline().min(own);
    }

    /**
     * Runs the chain for one call; {@code sender} sends it with the deadline and metadata the
     * interceptors left. Never throws: a failing interceptor fails the future.
     */
    public <R> CompletableFuture<R> run(String target, String method, String token, CallOptions options,
                                        Sender<R> sender) {
        return run(target, method, token, options, deadlineOf(options), sender);
    }

    @SuppressWarnings("unchecked")
    private <R> CompletableFuture<R> run(String target, String method, String token, CallOptions options,
                                         Deadline deadline, Sender<R> sender) {
        // The lanes the served call is in go with it, like its deadline (refused re-entry, LaneChain).
        Map<String, String> metadata = LaneChain.carry(options.metadata());
        if (interceptors.size() == (propagateDeadlines ? 1 : 0)) {
            // No user interceptor: what DeadlinePropagation does, in place.
            Deadline effective = propagateDeadlines ? DeadlinePropagation.inherit(deadline) : deadline;
            return sender.send(effective, metadata);
        }
        Outgoing call = new Outgoing(target, method, token, options, deadline, metadata);
        return (CompletableFuture<R>) proceed(0, call, c -> {
            CompletableFuture<Object> sent = (CompletableFuture<Object>) sender.send(c.deadline(), c.metadata());
            if (sent instanceof PendingCall<?> pending) {
                c.pending = pending;
            }
            return sent;
        });
    }

    /**
     * Runs the chain for a stream: {@code open} prepares and routes it with the deadline and metadata
     * the interceptors left, once the last of them proceeds.
     */
    public void runStream(ClientStreamCall<?, ?> stream, CallOptions options, Sender<Void> open) {
        CompletableFuture<Void> outcome = run(stream.service(), stream.method(), stream.token(), options,
                (finalDeadline, metadata) -> {
                    open.send(finalDeadline, metadata);
                    return stream.done();
                });
        outcome.whenComplete((ignored, failure) -> {
            if (failure != null) {
                stream.completeExceptionally(failure);
            } else if (!stream.isPrepared()) {
                stream.completeExceptionally(new BraidException(Code.INTERNAL, "a client interceptor answered "
                        + "stream " + stream.service() + "/" + stream.method() + " without opening it"));
            }
        });
    }

    /** Interceptor {@code index} of the chain, or {@code last} after the last one. */
    private CompletableFuture<Object> proceed(int index, Outgoing call,
                                              java.util.function.Function<Outgoing, CompletableFuture<Object>> last) {
        try {
            if (index == interceptors.size()) {
                return last.apply(call);
            }
            CompletableFuture<Object> answer = interceptors.get(index).intercept(call, c -> proceed(index + 1, call, last));
            return answer != null ? answer : CompletableFuture.failedFuture(new BraidException(Code.INTERNAL,
                    "a client interceptor returned a null future"));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(BraidException.from(e)); // futures hold BraidExceptions only
        }
    }

    /** A call as client interceptors see it. */
    private static final class Outgoing implements OutgoingCall {
        private final String target;
        private final String method;
        private final String token;
        private final CallOptions options;
        private final Map<String, String> metadata;
        private Deadline deadline;
        volatile PendingCall<?> pending;

        Outgoing(String target, String method, String token, CallOptions options, Deadline deadline,
                 Map<String, String> metadata) {
            this.target = target;
            this.method = method;
            this.token = token;
            this.options = options;
            this.deadline = deadline;
            this.metadata = new LinkedHashMap<>(metadata);
        }

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
            return token;
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
            deadline = deadline.min(earlier);
        }

        @Override
        public CallOptions options() {
            return options;
        }

        @Override
        public Map<String, String> responseMetadata() {
            PendingCall<?> call = pending;
            return call == null ? Map.of() : call.responseMetadata();
        }
    }
}
