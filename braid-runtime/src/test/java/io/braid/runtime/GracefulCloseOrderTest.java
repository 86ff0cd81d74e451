package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A graceful close fences, finishes its calls in flight, and only then deregisters: while a slow
 * token call still runs on the closing node, the cluster still lists the node (so the leader does
 * not hand its players to another node yet), and new token calls to it get UNAVAILABLE.
 */
class GracefulCloseOrderTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @Test
    void aClosingNodeStaysRegisteredUntilItsTokenCallsInFlightHaveFinished() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Braid logic = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1).redis(redis.server().uri())
                .shutdownGrace(Duration.ofSeconds(20))
                .handle("fast", StringValue.parser(), (ctx, req) -> StringValue.of("fast " + ctx.token()))
                .handle("slow", StringValue.parser(), (ctx, req) -> {
                    entered.countDown();
                    release.await();
                    return StringValue.of("slow " + ctx.token());
                })
                .start();
        try (Braid gateway = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)
                .redis(redis.server().uri()).start()) {
            Await.until(Duration.ofSeconds(5), "the gateway sees logic-1", () -> listed(gateway));
            assertThat(call(gateway, "fast", "player-2").get(5, TimeUnit.SECONDS).getValue()).isEqualTo("fast player-2");

            CompletableFuture<StringValue> inFlight = call(gateway, "slow", "player-1");
            assertThat(entered.await(5, TimeUnit.SECONDS)).as("the slow handler runs").isTrue();

            CompletableFuture<Void> closing = CompletableFuture.runAsync(logic::close);
            // A token call that arrives now is not served: the node has fenced itself.
            Await.until(Duration.ofSeconds(5), "a new token call to the closing node is refused",
                    () -> codeOf(call(gateway, "fast", "player-2")) == Code.UNAVAILABLE);
            // ...but the node is still registered, for as long as its handler runs.
            assertThat(Await.poll(Duration.ofSeconds(1), () -> !listed(gateway) || closing.isDone()))
                    .as("logic-1 left discovery (or finished closing) while its token call was in flight").isFalse();
            assertThat(inFlight).isNotDone();

            release.countDown();
            assertThat(inFlight.get(5, TimeUnit.SECONDS).getValue()).as("the call in flight completes")
                    .isEqualTo("slow player-1");
            closing.get(15, TimeUnit.SECONDS);
            Await.until(Duration.ofSeconds(5), "the closed node leaves discovery", () -> !listed(gateway));
        } finally {
            release.countDown();
            logic.close();
        }
    }

    private static boolean listed(Braid gateway) {
        return gateway.discover().nodes("logic").stream().anyMatch(n -> n.id().equals("logic-1"));
    }

    private static CompletableFuture<StringValue> call(Braid gateway, String method, String token) {
        return gateway.invoke("logic", method, token, StringValue.of(""), StringValue.parser());
    }

    private static Code codeOf(CompletableFuture<?> call) {
        try {
            call.get(5, TimeUnit.SECONDS);
            return Code.OK;
        } catch (ExecutionException e) {
            return BraidException.from(e.getCause()).code();
        } catch (Exception e) {
            return BraidException.from(e).code();
        }
    }
}
