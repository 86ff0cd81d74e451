package io.braid.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import io.lettuce.core.KeyValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The queue on a real redis-server. BLPOP on an empty list holds the connection (Redis answers
 * nothing behind it until the list gets an element), which makes "sent and not yet answered"
 * observable without timing: the bound, the order, a timeout that fails the waiting, close.
 */
class CommandQueueTest {
    private RedisServer redis;
    private RedisConnector connector;
    private RedisProbe probe;
    /** How many commands the queue let out (the suppliers it ran). */
    private final AtomicInteger sent = new AtomicInteger();

    @BeforeEach
    void start() {
        redis = RedisServer.start();
        probe = redis.probe();
    }

    @AfterEach
    void stop() {
        probe.close();
        if (connector != null) {
            connector.close();
        }
        redis.close();
    }

    private void connect(Duration commandTimeout) {
        connector = RedisConnector.connect(redis.uri(), commandTimeout);
    }

    /** BLPOP q 0 through the queue: answered with the next element pushed to q. */
    private CompletableFuture<String> pop(CommandQueue queue, int i) {
        return queue.<KeyValue<String, String>>run("cannot pop " + i, () -> {
            sent.incrementAndGet();
            return connector.async().blpop(0, "q");
        }).thenApply(KeyValue::getValue);
    }

    @Test
    void keepsAtMostTheBoundInFlightAndSendsInTheOrderGiven() throws Exception {
        connect(Duration.ofSeconds(30));
        CommandQueue queue = new CommandQueue("the test", 3);
        List<CompletableFuture<String>> pops = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            pops.add(pop(queue, i));
        }
        Await.until(Duration.ofSeconds(10), "the first pop to block in Redis",
                () -> probe.info("clients").contains("blocked_clients:1"));
        assertThat(sent).as("commands let out").hasValue(3);
        assertThat(queue.inFlight()).isEqualTo(3);
        assertThat(queue.waiting()).isEqualTo(7);

        for (int i = 0; i < 10; i++) {
            probe.command("RPUSH", "q", "x" + i);
        }
        List<String> popped = new ArrayList<>();
        for (CompletableFuture<String> pop : pops) {
            popped.add(pop.get(30, TimeUnit.SECONDS));
        }
        assertThat(popped).as("each pop got the next element: sent in the order given")
                .containsExactly("x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9");
        assertThat(queue.inFlight()).isZero();
        assertThat(queue.waiting()).isZero();
    }

    @Test
    void aCommandThatTimesOutFailsTheWaitingUnavailableWithoutSendingThem() throws Exception {
        connect(Duration.ofMillis(500));
        CommandQueue queue = new CommandQueue("the test", 1);
        List<CompletableFuture<String>> pops = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            pops.add(pop(queue, i));
        }
        for (CompletableFuture<String> pop : pops) {
            assertThat(codeOf(pop)).isEqualTo(Code.UNAVAILABLE);
        }
        assertThat(sent).as("only the first was sent").hasValue(1);
        assertThatThrownBy(() -> pops.get(1).join()).hasMessageContaining("cannot pop 1")
                .hasMessageContaining("Redis did not answer a command sent before it");

        // The queue goes on: a later command is sent (and answered) as usual.
        probe.command("RPUSH", "q", "a", "b");
        assertThat(pop(queue, 5).get(30, TimeUnit.SECONDS)).isIn("a", "b");
    }

    @Test
    void closeFailsTheWaitingAndRefusesLaterCommandsButLetsTheSentBeAnswered() throws Exception {
        connect(Duration.ofSeconds(30));
        CommandQueue queue = new CommandQueue("the test", 1);
        CompletableFuture<String> first = pop(queue, 0);
        List<CompletableFuture<String>> waiting = new ArrayList<>();
        for (int i = 1; i < 4; i++) {
            waiting.add(pop(queue, i));
        }
        queue.close();
        queue.close(); // idempotent
        for (CompletableFuture<String> pop : waiting) {
            assertThat(codeOf(pop)).isEqualTo(Code.UNAVAILABLE);
        }
        CompletableFuture<String> later = pop(queue, 4);
        assertThat(codeOf(later)).isEqualTo(Code.UNAVAILABLE);
        assertThatThrownBy(later::join).hasMessageContaining("cannot pop 4: the test is closed");
        assertThat(sent).as("only the first was sent").hasValue(1);

        probe.command("RPUSH", "q", "a");
        assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("a");
    }

    @Test
    void aReplyErrorFailsOnlyItsCommandInternal() throws Exception {
        connect(Duration.ofSeconds(30));
        CommandQueue queue = new CommandQueue("the test", 1);
        probe.command("SET", "s", "text");
        CompletableFuture<Long> wrong = queue.run("cannot count", () -> connector.async().scard("s"));
        CompletableFuture<String> next = queue.run("cannot get", () -> connector.async().get("s"));
        assertThat(codeOf(wrong)).isEqualTo(Code.INTERNAL);
        assertThat(next.get(30, TimeUnit.SECONDS)).isEqualTo("text");
    }

    @Test
    void refusesABoundOutOfRange() {
        assertThatThrownBy(() -> new CommandQueue("the test", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxInFlight must be in 1..65536, was 0");
    }

    private static Code codeOf(CompletableFuture<?> future) {
        try {
            future.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(BraidException.class);
            return ((BraidException) e.getCause()).code();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("did not fail: " + future.join());
    }
}
