package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.internal.GatewaySessionStore.Appended;
import io.braid.api.internal.GatewaySessionStore.Bounds;
import io.braid.api.internal.GatewaySessionStore.Held;
import io.braid.api.internal.GatewaySessionStore.Replay;
import io.braid.api.internal.GatewaySessionStore.Push;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The in-memory gateway session records answer as the Redis ones do (see braid-redis's
 * RedisGatewaySessionsTest): fencing, bounds, takeovers, ends, expiry by the ticker, the index.
 */
class InMemoryGatewaySessionsTest {
    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Bounds BOUNDS = new Bounds(3, 1024);
    /** A log of 10 pushes remembering the ids of the last 3. */
    private static final Bounds IDS = new Bounds(10, 1024, 3);
    private static final byte[] SECRET = {1, 2, 3};
    private static final byte[] NEXT = {4, 5, 6};

    private final AtomicLong now = new AtomicLong();
    private final InMemoryGatewaySessions store = new InMemoryGatewaySessions(now::get);

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static <T> T join(CompletableFuture<T> future) {
        return future.join();
    }

    private static Code codeOf(CompletableFuture<?> future) {
        try {
            throw new AssertionError("expected a failure, got " + future.join());
        } catch (RuntimeException e) {
            return BraidException.from(e).code();
        }
    }

    @Test
    void appendsTakeoversAndEndsAnswerAsOnRedis() {
        store.open("t", "s1", SECRET, "g1", TTL).join();
        for (int i = 1; i <= 5; i++) {
            assertThat(store.append("t", "s1", "g1", bytes("p" + i), BOUNDS, TTL).join()).isEqualTo(i);
        }
        assertThat(codeOf(store.append("t", "s1", "g2", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.FAILED_PRECONDITION);
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 1, null, "g2", NEXT, TTL))).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(codeOf(store.takeOver("t", "s1", NEXT, 3, null, "g2", new byte[] {9}, TTL)))
                .isEqualTo(Code.UNAUTHENTICATED);
        assertThat(store.takeOver("t", "s1", SECRET, 3, "g1", "g2", NEXT, TTL).join().pushes())
                .extracting(push -> push.seq()).containsExactly(4L, 5L);
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 3, null, "g3", new byte[] {9}, TTL)))
                .as("the secret rotated").isEqualTo(Code.UNAUTHENTICATED);
        assertThat(store.takeOver("t", "s1", SECRET, 3, null, "g2", NEXT, TTL).join().lastSeq())
                .as("idempotent for its claimant").isEqualTo(5);
        assertThat(store.heldBy("g1").join()).isEmpty();
        assertThat(store.end("t", "s1", "g1").join()).isFalse();
        assertThat(store.end("t", "s1", "g2").join()).isTrue();
        assertThat(codeOf(store.append("t", "s1", "g2", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.NOT_FOUND);
    }

    @Test
    void thePreviousSecretIsAcceptedAgainOnlyAfterAnUnprovenDropWithinItsWindowAndUntilTheNextTakeover() {
        byte[] third = {7, 8, 9};
        byte[] fourth = {10, 11, 12};
        Duration window = Duration.ofSeconds(5);
        store.open("t", "s1", SECRET, "g1", TTL).join();
        store.append("t", "s1", "g1", bytes("p1"), BOUNDS, TTL).join();
        assertThat(store.acceptPreviousSecret("t", "s1", "g1", window).join()).as("a login has no previous").isFalse();
        store.takeOver("t", "s1", SECRET, 0, null, "g2", NEXT, TTL).join(); // its answer never reaches the client
        store.append("t", "s1", "g2", bytes("p2"), BOUNDS, TTL).join();
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g3", third, TTL)))
                .as("the resumed connection still open").isEqualTo(Code.UNAUTHENTICATED);
        assertThat(store.acceptPreviousSecret("t", "s1", "g1", window).join()).as("not its holder").isFalse();
        assertThat(store.acceptPreviousSecret("t", "s9", "g2", window).join()).as("another session").isFalse();
        assertThat(store.acceptPreviousSecret("t", "s1", "g2", window).join()).isTrue();
        // The client asks again with the secret it holds: exactly the pushes after its last.
        assertThat(store.takeOver("t", "s1", SECRET, 0, null, "g3", third, TTL).join().pushes())
                .extracting(push -> push.seq()).containsExactly(1L, 2L);
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g2", fourth, TTL)))
                .as("accepted again only after the next unproven drop").isEqualTo(Code.UNAUTHENTICATED);
        assertThat(store.acceptPreviousSecret("t", "s1", "g3", window).join()).isTrue();
        now.addAndGet(window.toNanos());
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g2", fourth, TTL)))
                .as("the window is over").isEqualTo(Code.UNAUTHENTICATED);
        // The client proved the new secret (used it): the one before never works again.
        assertThat(store.takeOver("t", "s1", third, 0, null, "g2", fourth, TTL).join().lastSeq()).isEqualTo(2);
        assertThat(store.acceptPreviousSecret("t", "s1", "g2", window).join()).isTrue();
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g1", new byte[] {0}, TTL)))
                .isEqualTo(Code.UNAUTHENTICATED);
        assertThat(store.takeOver("t", "s1", third, 0, null, "g1", SECRET, TTL).join().lastSeq())
                .as("the secret proven last, after an unproven drop").isEqualTo(2);
        // A login replaces the record: nothing of the old session's secrets is left.
        store.open("t", "s2", NEXT, "g1", TTL).join();
        assertThat(store.acceptPreviousSecret("t", "s2", "g1", window).join()).isFalse();
        assertThat(codeOf(store.takeOver("t", "s2", third, 0, null, "g2", fourth, TTL))).isEqualTo(Code.UNAUTHENTICATED);
    }

    @Test
    void aRecordExpiresByTheTickerAndADeadGatewaysSessionIsEndedOnce() {
        store.open("a", "sa", SECRET, "dead", Duration.ofNanos(100)).join();
        store.open("b", "sb", SECRET, "dead", TTL).join();
        assertThat(store.touch(List.of(new Held("a", "sa")), "other", TTL).join()).as("not its gateway: nothing")
                .isEmpty();
        now.addAndGet(100);
        assertThat(store.touch(List.of(new Held("a", "sa"), new Held("b", "sx")), "dead", TTL).join())
                .as("the refresh names the records gone").containsExactly(new Held("a", "sa"));
        assertThat(codeOf(store.append("a", "sa", "dead", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.NOT_FOUND);
        assertThat(store.heldBy("dead").join()).containsExactlyInAnyOrder(new Held("a", "sa"), new Held("b", "sb"));
        assertThat(store.endOrphan("a", "sa", "dead").join()).as("expired: ended once").isTrue();
        assertThat(store.endOrphan("a", "sa", "dead").join()).isFalse();
        assertThat(store.endOrphan("b", "sb", "dead").join()).isTrue();
        assertThat(store.endOrphan("b", "sb", "dead").join()).isFalse();
        assertThat(store.heldBy("dead").join()).isEmpty();
        assertThat(store.size()).isZero();
    }

    @Test
    void aRepeatedPushIdAnswersItsSeqWithinTheWindowOfTheLastMaxPushIds() {
        assertThat(new Bounds(1000, 1024).maxPushIds()).as("the default window").isEqualTo(128);
        assertThat(new Bounds(3, 1024).maxPushIds()).as("no more ids than pushes").isEqualTo(3);
        join(store.open("t", "s1", SECRET, "g1", TTL));
        assertThat(join(store.append("t", "s1", "g1", "a", bytes("pa"), IDS, TTL))).isEqualTo(new Appended(1, false));
        assertThat(join(store.append("t", "s1", "g1", "a", bytes("pa"), IDS, TTL))).as("asked again")
                .isEqualTo(new Appended(1, true));
        assertThat(join(store.append("t", "s1", "g1", bytes("no id"), IDS, TTL))).isEqualTo(2L);
        assertThat(join(store.append("t", "s1", "g1", "b", bytes("pb"), IDS, TTL))).isEqualTo(new Appended(3, false));
        assertThat(codeOf(store.append("t", "s1", "g2", "a", bytes("pa"), IDS, TTL))).as("fenced as any append")
                .isEqualTo(Code.FAILED_PRECONDITION);
        // The retry logged nothing: the replay holds each push once. A takeover keeps the ids.
        Replay replay = join(store.takeOver("t", "s1", SECRET, 1, "g1", "g2", NEXT, TTL));
        assertThat(replay.lastSeq()).isEqualTo(3);
        assertThat(replay.pushes()).extracting(Push::seq).containsExactly(2L, 3L);
        assertThat(join(store.append("t", "s1", "g2", "b", bytes("pb"), IDS, TTL))).as("after the takeover")
                .isEqualTo(new Appended(3, true));
        // The window: the ids of the last 3 (maxPushIds) pushes that had one; c, d, e push a and b out.
        for (String id : List.of("c", "d", "e")) {
            join(store.append("t", "s1", "g2", id, bytes("p" + id), IDS, TTL));
        }
        assertThat(join(store.append("t", "s1", "g2", "b", bytes("pb"), IDS, TTL))).as("past the window: anew")
                .isEqualTo(new Appended(7, false));
        assertThat(join(store.append("t", "s1", "g2", "e", bytes("pe"), IDS, TTL))).isEqualTo(new Appended(6, true));
        // A new login is a new session: it knows no ids.
        join(store.open("t", "s2", NEXT, "g1", TTL));
        assertThat(join(store.append("t", "s2", "g1", "e", bytes("pe"), IDS, TTL))).isEqualTo(new Appended(1, false));
    }
}
