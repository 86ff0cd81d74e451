package io.braid.rpc;

import io.braid.api.BraidException;
import io.braid.api.ClientInterceptor;
import io.braid.api.Code;
import io.braid.api.OutgoingCall;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The README's example interceptor: a per-player rate limit at the gateway. Each player token gets
 * a token bucket of {@code burst} calls refilled at {@code perSecond}; a call over the limit never
 * leaves the gateway and fails with RESOURCE_EXHAUSTED. (A real one would also forget idle players.)
 */
final class PlayerRateLimit implements ClientInterceptor {
    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, double[]> buckets = new ConcurrentHashMap<>(); // {tokens, lastNanos}

    PlayerRateLimit(double perSecond, int burst, LongSupplier nanoClock) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoClock = nanoClock;
    }

    @Override
    public CompletableFuture<Object> intercept(OutgoingCall call, Next next) {
        if (call.token().isEmpty() || take(call.token())) {
            return next.proceed(call);
        }
        return CompletableFuture.failedFuture(new BraidException(Code.RESOURCE_EXHAUSTED,
                "player " + call.token() + " is calling faster than " + perSecond + "/s"));
    }

    private boolean take(String player) {
        long now = nanoClock.getAsLong();
        double[] bucket = buckets.computeIfAbsent(player, p -> new double[] {burst, now});
        synchronized (bucket) {
            bucket[0] = Math.min(burst, bucket[0] + (now - (long) bucket[1]) / 1e9 * perSecond);
            bucket[1] = now;
            if (bucket[0] < 1) {
                return false;
            }
            bucket[0] -= 1;
            return true;
        }
    }
}
