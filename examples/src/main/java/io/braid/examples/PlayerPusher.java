package io.braid.examples;

import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.proto.PlayerPush;
import io.braid.gateway.GatewayPush;
import io.braid.runtime.Braid;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Pushes {@link PlayerPush}es to players through braid-gateway's {@link GatewayPush}, giving each
 * an id unique to this pusher ({@code <node>-<n>}), and keeps the record the demo's check reads:
 * the ids the gateway accepted (its answer is the push's sequence number in the player's
 * session), the pushes that failed by code, and how many are still in flight. Thread-safe.
 */
public final class PlayerPusher {
    private static final CallOptions PUSH_OPTIONS = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));

    private final GatewayPush push;
    private final String node;
    private final AtomicLong ids = new AtomicLong();
    private final Set<String> accepted = ConcurrentHashMap.newKeySet();
    private final Map<String, LongAdder> failed = new ConcurrentHashMap<>();
    private final LongAdder inFlight = new LongAdder();

    public PlayerPusher(Braid braid) {
        this.push = GatewayPush.of(braid.client(), GatewayService.SERVICE).withOptions(PUSH_OPTIONS);
        this.node = braid.node().id();
    }

    /**
     * Pushes {@code body} (its id set here) to the player {@code token}; completes with the push's
     * sequence number in the player's session, or fails as {@link GatewayPush#push} does (NOT_FOUND:
     * the player has no session; UNAVAILABLE: ask again). Never throws.
     */
    public CompletableFuture<Long> push(String token, PlayerPush.Builder body) {
        String id = node + "-" + ids.incrementAndGet();
        byte[] payload = body.setId(id).build().toByteArray();
        inFlight.increment();
        CompletableFuture<Long> sent;
        try {
            sent = push.push(token, payload);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.whenComplete((seq, failure) -> {
            if (failure == null) {
                accepted.add(id);
            } else {
                failed.computeIfAbsent(BraidException.from(failure).code().name(), c -> new LongAdder()).increment();
            }
            inFlight.decrement();
        });
    }

    /** The ids of the pushes the gateways accepted (each must reach its player exactly once). */
    public Set<String> accepted() {
        return Set.copyOf(accepted);
    }

    public long acceptedCount() {
        return accepted.size();
    }

    /** Pushes that failed, by code name. */
    public Map<String, Long> failed() {
        Map<String, Long> counts = new java.util.TreeMap<>();
        failed.forEach((code, count) -> counts.put(code, count.sum()));
        return counts;
    }

    /** Pushes sent whose answer has not come yet. */
    public long inFlight() {
        return inFlight.sum();
    }
}
