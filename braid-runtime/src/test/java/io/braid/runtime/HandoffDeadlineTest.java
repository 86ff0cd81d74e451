package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A call that reaches a node holding a hand-over offer of its player waits for the move's outcome
 * only within its own deadline: when the deadline passes first, it fails DEADLINE_EXCEEDED
 * without running, rather than run later, after its caller gave up (the chaos suite saw such a
 * call's handler run 1.5 s after its deadline).
 */
class HandoffDeadlineTest {
    private static final Duration WAIT = HandoffTest.WAIT;
    /** The nodes and helpers of HandoffTest, on its in-memory plane (only there: the wait is long). */
    private final HandoffTest nodes = new HandoffTest();

    @AfterEach
    void closeNodes() {
        nodes.closeNodes();
    }

    private Braid logic(String id, boolean snapshots) {
        return nodes.logic(id, snapshots);
    }

    private Braid logic(String id, boolean snapshots, java.util.function.UnaryOperator<Braid.Builder> more) {
        return nodes.logic(id, snapshots, more);
    }

    private Braid gateway() {
        return nodes.gateway();
    }

    private static long click(Braid gateway, String token) {
        return HandoffTest.click(gateway, token);
    }

    @Test
    void aCallWaitingForAHandOversOutcomeEndsAtItsDeadlineWithoutRunning() throws Exception {
        Braid a = logic("logic-a", true);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < 3; i++) {
            click(gateway, "player-1");
        }
        // logic-b never hears the outcome of the move (as if the old owner died after the
        // compare-and-set): it holds the offer, and the player's calls with it, until it expires.
        logic("logic-b", true, b -> b.serverInterceptor((call, next) -> {
            if (call.method().equals(Handoff.OUTCOME)) {
                throw new BraidException(Code.UNAVAILABLE, "outcome lost");
            }
            return next.proceed(call);
        }));
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        CompletableFuture<Void> drained = a.drain();
        Await.until(WAIT, "the link names logic-b", () -> gateway.linkCache().linkOf("player-1", "logic")
                .map(link -> link.nodeId().equals("logic-b")).orElse(false));
        long started = System.nanoTime();
        assertThatThrownBy(() -> gateway.invoke("logic", "click", "player-1", StringValue.of(""), Int64Value.parser(),
                CallOptions.DEFAULT.withTimeout(Duration.ofMillis(300))).join())
                .isInstanceOf(CompletionException.class).cause().isInstanceOf(BraidException.class)
                .extracting(e -> ((BraidException) e).code()).isEqualTo(Code.DEADLINE_EXCEEDED);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));

        drained.get(30, TimeUnit.SECONDS);
        // The offer expired unsettled: the player begins afresh on logic-b. The call that timed out
        // never ran, so the first click served there counts 1 (before, it ran once the offer
        // expired, after its caller had given up, and this click counted 2).
        long[] answer = new long[1];
        Await.until(Handoff.OUTCOME_WAIT.plusSeconds(5), "a click is served on logic-b", () -> {
            try {
                answer[0] = click(gateway, "player-1");
                return true;
            } catch (CompletionException refusedUntilTheOfferExpires) {
                return false;
            }
        });
        assertThat(answer[0]).as("the first click served on logic-b").isEqualTo(1);
    }
}
