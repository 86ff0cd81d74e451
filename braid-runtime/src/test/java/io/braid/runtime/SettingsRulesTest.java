package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Settings that each look legal but together make a healthy node misbehave are refused at
 * {@code start()} with a message naming the rule; a tight legal combination keeps the self-fence
 * open on a healthy node.
 */
class SettingsRulesTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final int CALLS = 6_000;
    private static final int CALLERS = 4;

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @Test
    void aHeartbeatAboveAThirdOfTheTtlIsRefused() {
        // heartbeat 500 ms, TTL 1 s: the fence window (TTL - TTL/3) would leave no room for a heartbeat's round trip.
        assertThatThrownBy(() -> Braid.builder().service("logic").ioThreads(1).redis(redis.server().uri())
                .heartbeat(Duration.ofMillis(500), Duration.ofSeconds(1)).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("heartbeat (PT0.5S)").hasMessageContaining("ttl/3");
    }

    @Test
    void aCommandTimeoutThatAPubsubReadOutlastsIsRefused() {
        assertThatThrownBy(() -> Braid.builder().service("logic").ioThreads(1).redis(redis.server().uri())
                .redisCommandTimeout(Duration.ofMillis(300)).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("redisCommandTimeout (PT0.3S)").hasMessageContaining("blocking read");
    }

    /** Settings of the modules underneath: refused out of range at once, and passed down when legal. */
    @Test
    void stalenessBoundAndEphemeralIdleLimitAreCheckedAndPassedDown() throws Exception {
        assertThatThrownBy(() -> Braid.builder().stalenessBound(Duration.ofMillis(99)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("stalenessBound must be in 100 ms..1 min, was PT0.099S");
        assertThatThrownBy(() -> Braid.builder().stalenessBound(Duration.ofSeconds(61)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("stalenessBound must be in");
        assertThatThrownBy(() -> Braid.builder().ephemeralIdleLimit(Duration.ofMillis(999)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ephemeralIdleLimit must be in 1 s..1 day, was PT0.999S");
        assertThatThrownBy(() -> Braid.builder().ephemeralIdleLimit(Duration.ofDays(1).plusSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("ephemeralIdleLimit must be in");

        try (Braid node = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1).redis(redis.server().uri())
                     .stalenessBound(Duration.ofMillis(250)).ephemeralIdleLimit(Duration.ofSeconds(7)).start();
             RedisProbe probe = redis.server().probe()) {
            node.topic("rooms").subscribe("logic-1-rooms", ChannelOptions.DEFAULT.withDurable(false))
                    .onMessage(message -> { });
            Await.until(Duration.ofSeconds(5), "the channel marked alive with the node's idle limit", () ->
                    String.valueOf(probe.command("HGET", "braid:{topic:rooms}:ephemeral", "logic-1-rooms"))
                            .endsWith(":7000"));
        }
    }

    @Test
    void aTightLegalCombinationNeverFencesAHealthyNode() throws Exception {
        long unavailable = unavailableTokenCalls(Duration.ofMillis(200), Duration.ofSeconds(1));
        assertThat(unavailable).as("token calls refused by a healthy node").isZero();
    }

    /** Calls a healthy logic node with tokens from several callers; returns how many got UNAVAILABLE. */
    static long unavailableTokenCalls(Duration heartbeat, Duration ttl) throws Exception {
        try (Braid logic = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1).redis(redis.server().uri())
                     .heartbeat(heartbeat, ttl)
                     .handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("logic-1")).start();
             Braid gateway = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)
                     .redis(redis.server().uri()).heartbeat(heartbeat, ttl).start()) {
            Await.until(Duration.ofSeconds(5), "gateway sees logic", () -> !gateway.discover().nodes("logic").isEmpty());
            AtomicLong unavailable = new AtomicLong();
            AtomicLong other = new AtomicLong();
            long started = System.nanoTime();
            List<CompletableFuture<Void>> callers = new ArrayList<>();
            for (int c = 0; c < CALLERS; c++) {
                String token = "player-" + c;
                callers.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < CALLS / CALLERS; i++) {
                        try {
                            gateway.invoke("logic", "who", token, StringValue.of(""), StringValue.parser())
                                    .get(5, TimeUnit.SECONDS);
                        } catch (ExecutionException e) {
                            if (BraidException.from(e.getCause()).code() == Code.UNAVAILABLE) {
                                if (unavailable.incrementAndGet() <= 3) {
                                    System.out.println("UNAVAILABLE: " + e.getCause().getMessage());
                                }
                            } else {
                                other.incrementAndGet();
                            }
                        } catch (Exception e) {
                            other.incrementAndGet();
                        }
                    }
                }));
            }
            CompletableFuture.allOf(callers.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            System.out.printf("heartbeat %d ms, TTL %d ms: %d token calls in %d ms, %d UNAVAILABLE, %d other failures%n",
                    heartbeat.toMillis(), ttl.toMillis(), CALLS, Duration.ofNanos(System.nanoTime() - started).toMillis(),
                    unavailable.get(), other.get());
            assertThat(other.get()).as("calls that failed otherwise").isZero();
            return unavailable.get();
        }
    }
}
