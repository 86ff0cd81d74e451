package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Code;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.api.internal.GatewaySessionStoreContract;
import io.braid.api.internal.GatewaySessionStore.Held;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The in-memory gateway session records answer as the Redis ones do (see braid-redis's
 * RedisGatewaySessionsTest): fencing, bounds, takeovers, ends, expiry by the ticker, the index; and
 * the {@link GatewaySessionStoreContract} every store answers alike.
 */
class InMemoryGatewaySessionsTest extends GatewaySessionStoreContract {
    private final AtomicLong now = new AtomicLong();
    private final InMemoryGatewaySessions store = new InMemoryGatewaySessions(now::get);

    @Override
    protected GatewaySessionStore store() {
        return store;
    }

    /** The window, measured by the ticker: it passes at once. */
    @Override
    protected void acceptThePreviousSecretUntilTheWindowCloses(String token, String session, String gateway) {
        Duration window = Duration.ofSeconds(5);
        assertThat(store.acceptPreviousSecret(token, session, gateway, window).join()).isTrue();
        now.addAndGet(window.toNanos());
    }

    @Override
    protected void assertNothingLeftOf(String token) {
        assertThat(store.size()).as("records left (the test's only token is %s)", token).isZero();
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
}
