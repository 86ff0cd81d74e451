package io.braid.api.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.internal.GatewaySessionStore.Appended;
import io.braid.api.internal.GatewaySessionStore.Bounds;
import io.braid.api.internal.GatewaySessionStore.Push;
import io.braid.api.internal.GatewaySessionStore.Replay;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What every {@link GatewaySessionStore} answers alike, run by each implementation's test (the
 * in-memory one in braid-runtime, the Redis one in braid-redis), which gives {@link #store()} a
 * fresh store for each test. Shipped in braid-api's test-jar; also the helpers and settings those
 * tests share.
 */
public abstract class GatewaySessionStoreContract {
    protected static final Duration TTL = Duration.ofSeconds(30);
    protected static final Bounds BOUNDS = new Bounds(3, 1024);
    /** A log of 10 pushes remembering the ids of the last 3. */
    protected static final Bounds IDS = new Bounds(10, 1024, 3);
    protected static final byte[] SECRET = hash("secret");
    protected static final byte[] NEXT = hash("next");

    /** The store under test, fresh for each test; the subclass closes it. */
    protected abstract GatewaySessionStore store();

    /**
     * Has {@code gateway} accept the previous secret of session {@code session} of token {@code
     * token} (asserting it does) and lets that window run out, as the store measures time.
     */
    protected abstract void acceptThePreviousSecretUntilTheWindowCloses(String token, String session, String gateway);

    /** Asserts the store keeps nothing of token {@code token}: no record, log or previous secret. */
    protected abstract void assertNothingLeftOf(String token);

    protected static byte[] hash(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    protected static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    protected static <T> T join(CompletableFuture<T> future) {
        return future.join();
    }

    /** The code {@code future} failed with; an AssertionError if it succeeded. */
    protected static Code codeOf(CompletableFuture<?> future) {
        try {
            throw new AssertionError("expected a failure, got " + future.join());
        } catch (RuntimeException e) {
            return BraidException.from(e).code();
        }
    }

    /** Payloads as {@code seq:text}. */
    protected static List<String> payloads(Replay replay) {
        return replay.pushes().stream().map(push -> push.seq() + ":" + new String(push.payload(), StandardCharsets.UTF_8))
                .toList();
    }

    @Test
    public void thePreviousSecretIsAcceptedAgainOnlyAfterAnUnprovenDropWithinItsWindowAndUntilTheNextTakeover() {
        GatewaySessionStore store = store();
        byte[] third = hash("third");
        byte[] fourth = hash("fourth");
        Duration window = Duration.ofSeconds(5);
        join(store.open("t", "s1", SECRET, "g1", TTL));
        join(store.append("t", "s1", "g1", bytes("p1"), BOUNDS, TTL));
        assertThat(join(store.acceptPreviousSecret("t", "s1", "g1", window))).as("a login has no previous").isFalse();
        join(store.takeOver("t", "s1", SECRET, 0, null, "g2", NEXT, TTL)); // its answer never reaches the client
        join(store.append("t", "s1", "g2", bytes("p2"), BOUNDS, TTL));
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g3", third, TTL)))
                .as("the resumed connection still open").isEqualTo(Code.UNAUTHENTICATED);
        assertThat(join(store.acceptPreviousSecret("t", "s1", "g1", window))).as("not its holder").isFalse();
        assertThat(join(store.acceptPreviousSecret("t", "s9", "g2", window))).as("another session").isFalse();
        assertThat(join(store.acceptPreviousSecret("t", "s1", "g2", window))).isTrue();
        // The client asks again with the secret it holds: exactly the pushes after its last.
        assertThat(payloads(join(store.takeOver("t", "s1", SECRET, 0, null, "g3", third, TTL))))
                .containsExactly("1:p1", "2:p2");
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g2", fourth, TTL)))
                .as("accepted again only after the next unproven drop").isEqualTo(Code.UNAUTHENTICATED);
        acceptThePreviousSecretUntilTheWindowCloses("t", "s1", "g3");
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g2", fourth, TTL)))
                .as("the window is over").isEqualTo(Code.UNAUTHENTICATED);
        // The client proved the new secret (used it): the one before never works again.
        assertThat(join(store.takeOver("t", "s1", third, 0, null, "g2", fourth, TTL)).lastSeq()).isEqualTo(2);
        assertThat(join(store.acceptPreviousSecret("t", "s1", "g2", window))).isTrue();
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g1", hash("x"), TTL)))
                .as("the client used the newer secret: the older never again").isEqualTo(Code.UNAUTHENTICATED);
        assertThat(join(store.takeOver("t", "s1", third, 0, null, "g1", SECRET, TTL)).lastSeq())
                .as("the secret proven last, after an unproven drop").isEqualTo(2);
        // A login replaces the record: nothing of the old session's secrets is left.
        join(store.open("t", "s2", NEXT, "g1", TTL));
        assertThat(join(store.acceptPreviousSecret("t", "s2", "g1", window))).isFalse();
        assertThat(codeOf(store.takeOver("t", "s2", third, 0, null, "g2", fourth, TTL))).isEqualTo(Code.UNAUTHENTICATED);
        assertThat(join(store.end("t", "s2", "g1"))).isTrue();
        assertNothingLeftOf("t");
    }

    @Test
    public void aRepeatedPushIdAnswersItsSeqWithinTheWindowOfTheLastMaxPushIds() {
        GatewaySessionStore store = store();
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
