package io.braid.examples;

import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.proto.PlayerPush;
import io.braid.gateway.GatewayPush;
import io.braid.runtime.Braid;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Pushes {@link PlayerPush}es to players through braid-gateway's {@link GatewayPush}, giving each
 * an id unique to this pusher ({@code <node>-<pusher>-<n>}, {@code <pusher>} random per pusher, so
 * that two pushers of one node, or a node restarted under its id, never share an id), and keeps the
 * record the demo's check reads: the ids the gateway accepted (its answer is the push's sequence
 * number in the player's session), the pushes that failed by code, and how many are still in
 * flight. Thread-safe.
 *
 * <p>The id is also the push's {@linkplain GatewayPush#push(String, String, byte[]) push id}, so a
 * push whose outcome is unknown can be asked again: one refused UNAVAILABLE (the player's session
 * is moving, e.g. its gateway crashed and the player is resuming on another) or left unanswered
 * (DEADLINE_EXCEEDED) is sent again, 50 ms later and then at doubling intervals up to 1 s, for up
 * to {@link #RETRY_FOR} in all; the player sees it once however many times it was sent.
 */
public final class PlayerPusher {
    /** How long a push is asked again while its outcome is unknown. */
    public static final Duration RETRY_FOR = Duration.ofSeconds(10);
    private static final CallOptions PUSH_OPTIONS = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));
    private static final long FIRST_RETRY_MILLIS = 50;
    private static final long LONGEST_RETRY_MILLIS = 1_000;

    private final GatewayPush push;
    /** {@code <node>-<pusher>-}: what every id of this pusher starts with. */
    private final String prefix;
    private final AtomicLong ids = new AtomicLong();
    private final Set<String> accepted = ConcurrentHashMap.newKeySet();
    private final Map<String, LongAdder> failed = new ConcurrentHashMap<>();
    private final LongAdder inFlight = new LongAdder();

    public PlayerPusher(Braid braid) {
        this.push = GatewayPush.of(braid.client(), GatewayService.SERVICE).withOptions(PUSH_OPTIONS);
        this.prefix = braid.node().id() + "-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 28, 36) + "-";
    }

    /**
     * Pushes {@code body} (its id set here) to the player {@code token}, asking again while the
     * outcome is unknown (see the class comment); completes with the push's sequence number in the
     * player's session, or fails as {@link GatewayPush#push} does (NOT_FOUND: the player has no
     * session; UNAVAILABLE or DEADLINE_EXCEEDED: still so after {@link #RETRY_FOR}). Never throws.
     */
    public CompletableFuture<Long> push(String token, PlayerPush.Builder body) {
        String id = prefix + ids.incrementAndGet();
        byte[] payload = body.setId(id).build().toByteArray();
        String pushId = id.length() <= GatewayPush.MAX_PUSH_ID_LENGTH ? id
                : UUID.nameUUIDFromBytes(id.getBytes(StandardCharsets.UTF_8)).toString();
        inFlight.increment();
        CompletableFuture<Long> done = new CompletableFuture<>();
        send(token, pushId, payload, System.nanoTime() + RETRY_FOR.toNanos(), FIRST_RETRY_MILLIS, done);
        return done.whenComplete((seq, failure) -> {
            if (failure == null) {
                accepted.add(id);
            } else {
                failed.computeIfAbsent(BraidException.from(failure).code().name(), c -> new LongAdder()).increment();
            }
            inFlight.decrement();
        });
    }

    private void send(String token, String pushId, byte[] payload, long giveUpAt, long retryMillis,
                      CompletableFuture<Long> done) {
        CompletableFuture<Long> sent;
        try {
            sent = push.push(token, pushId, payload);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((seq, failure) -> {
            if (failure == null) {
                done.complete(seq);
                return;
            }
            Code code = BraidException.from(failure).code();
            boolean unknown = code == Code.UNAVAILABLE || code == Code.DEADLINE_EXCEEDED;
            if (!unknown || giveUpAt - System.nanoTime() < TimeUnit.MILLISECONDS.toNanos(retryMillis)) {
                done.completeExceptionally(failure);
                return;
            }
            CompletableFuture.delayedExecutor(retryMillis, TimeUnit.MILLISECONDS).execute(() -> send(token, pushId,
                    payload, giveUpAt, Math.min(retryMillis * 2, LONGEST_RETRY_MILLIS), done));
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
