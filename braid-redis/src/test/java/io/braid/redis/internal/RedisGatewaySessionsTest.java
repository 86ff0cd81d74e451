package io.braid.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Code;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.api.internal.GatewaySessionStoreContract;
import io.braid.api.internal.GatewaySessionStore.Held;
import io.braid.api.internal.GatewaySessionStore.Replay;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.BusyRedis;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway session records on one real redis-server: numbering and fencing of appends, the
 * log's bounds, takeovers (secret, rotation, idempotence for the claimant, gaps), compare-and-delete
 * ends, the ttl, the index and its exactly-once claim, and UNAVAILABLE with Redis dead; and the
 * {@link GatewaySessionStoreContract} every store answers alike.
 */
class RedisGatewaySessionsTest extends GatewaySessionStoreContract {
    private RedisServer redis;
    private RedisConnector connector;
    private RedisGatewaySessions store;
    private RedisProbe probe;

    @BeforeEach
    void start() {
        redis = RedisServer.start();
        probe = redis.probe();
        connector = RedisConnector.connect(redis.uri(), Duration.ofSeconds(1));
        store = new RedisGatewaySessions(connector);
    }

    @AfterEach
    void stop() {
        probe.close();
        store.close();
        connector.close();
        redis.close();
    }

    @Override
    protected GatewaySessionStore store() {
        return store;
    }

    /** The window, on Redis a PEXPIRE: short here. */
    @Override
    protected void acceptThePreviousSecretUntilTheWindowCloses(String token, String session, String gateway) {
        assertThat(join(store.acceptPreviousSecret(token, session, gateway, Duration.ofMillis(200)))).isTrue();
        long opened = System.nanoTime();
        Await.until(Duration.ofSeconds(5), "the window to close", () -> Long.valueOf(0L).equals(
                probe.command("EXISTS", RedisGatewaySessions.previousKey(token))));
        assertThat((System.nanoTime() - opened) / 1_000_000).as("ms the window lasted").isGreaterThanOrEqualTo(150);
    }

    @Override
    protected void assertNothingLeftOf(String token) {
        assertThat(probe.command("EXISTS", RedisGatewaySessions.recordKey(token), RedisGatewaySessions.logKey(token),
                RedisGatewaySessions.previousKey(token))).isEqualTo(0L);
    }

    @Test
    void appendsAreNumberedBoundedAndFencedBySessionAndGateway() {
        join(store.open("t", "s1", SECRET, "g1", TTL));
        for (int i = 1; i <= 5; i++) {
            assertThat(join(store.append("t", "s1", "g1", bytes("p" + i), BOUNDS, TTL))).isEqualTo(i);
        }
        assertThat(codeOf(store.append("t", "other", "g1", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.NOT_FOUND);
        assertThat(codeOf(store.append("t", "s1", "g2", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.FAILED_PRECONDITION);
        // The log keeps the latest 3 (4 and 5 after seen 3; 2 is gone: a gap).
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 1, "g1", "g2", NEXT, TTL)))
                .isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 6, "g1", "g2", NEXT, TTL)))
                .isEqualTo(Code.INVALID_ARGUMENT);
        Replay replay = join(store.takeOver("t", "s1", SECRET, 3, "g1", "g2", NEXT, TTL));
        assertThat(replay.lastSeq()).isEqualTo(5);
        assertThat(payloads(replay)).containsExactly("4:p4", "5:p5");
        // Fenced: the old gateway appends no more; the new one goes on numbering.
        assertThat(codeOf(store.append("t", "s1", "g1", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.FAILED_PRECONDITION);
        assertThat(join(store.append("t", "s1", "g2", bytes("p6"), BOUNDS, TTL))).isEqualTo(6);
        // A push larger than maxBytes is numbered but not kept, and takes the older ones with it.
        assertThat(join(store.append("t", "s1", "g2", new byte[2000], BOUNDS, TTL))).isEqualTo(7);
        assertThat(codeOf(store.takeOver("t", "s1", NEXT, 5, null, "g3", SECRET, TTL)))
                .isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(payloads(join(store.takeOver("t", "s1", NEXT, 7, null, "g3", SECRET, TTL)))).isEmpty();
    }

    @Test
    void aTakeoverChecksAndRotatesTheSecretSoOfTwoRacersOneWinsAndIsIdempotentForItsClaimant() {
        join(store.open("t", "s1", SECRET, "dead", TTL));
        join(store.append("t", "s1", "dead", bytes("p1"), BOUNDS, TTL));
        assertThat(codeOf(store.takeOver("t", "s1", hash("guess"), 0, null, "g2", NEXT, TTL)))
                .isEqualTo(Code.UNAUTHENTICATED);
        assertThat(codeOf(store.takeOver("t", "s0", SECRET, 0, null, "g2", NEXT, TTL))).isEqualTo(Code.NOT_FOUND);
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, "g9", "g2", NEXT, TTL))).isEqualTo(Code.NOT_FOUND);
        CompletableFuture<Replay> first = store.takeOver("t", "s1", SECRET, 0, null, "g2", NEXT, TTL);
        CompletableFuture<Replay> second = store.takeOver("t", "s1", SECRET, 0, null, "g3", hash("other"), TTL);
        assertThat(payloads(join(first))).containsExactly("1:p1");
        assertThat(codeOf(second)).isEqualTo(Code.UNAUTHENTICATED);
        // The winner asking again (its answer lost) gets the same.
        assertThat(payloads(join(store.takeOver("t", "s1", SECRET, 0, null, "g2", NEXT, TTL)))).containsExactly("1:p1");
        assertThat(join(store.heldBy("g2"))).containsExactly(new Held("t", "s1"));
        assertThat(join(store.heldBy("dead"))).isEmpty();
    }

    @Test
    void anEndIsACompareAndDeleteAndALoginReplacesTheRecord() {
        join(store.open("t", "s1", SECRET, "g1", TTL));
        join(store.append("t", "s1", "g1", bytes("p1"), BOUNDS, TTL));
        join(store.open("t", "s2", NEXT, "g2", TTL)); // a later login elsewhere
        assertThat(join(store.end("t", "s1", "g1"))).isFalse();
        assertThat(join(store.append("t", "s2", "g2", bytes("q"), BOUNDS, TTL))).as("numbered afresh").isEqualTo(1);
        assertThat(join(store.end("t", "s2", "g1"))).isFalse();
        assertThat(join(store.end("t", "s2", "g2"))).isTrue();
        assertThat(join(store.end("t", "s2", "g2"))).isFalse();
        assertThat(codeOf(store.append("t", "s2", "g2", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.NOT_FOUND);
        assertThat(join(store.heldBy("g2"))).isEmpty();
        assertThat(probe.command("EXISTS", RedisGatewaySessions.recordKey("t"),
                RedisGatewaySessions.logKey("t"))).isEqualTo(0L);
    }

    @Test
    void aRecordExpiresItsTtlAfterItsLastTouchAndOnlyItsGatewayTouchesIt() {
        Duration short_ = Duration.ofMillis(300);
        join(store.open("t", "s1", SECRET, "g1", short_));
        join(store.append("t", "s1", "g1", bytes("p1"), BOUNDS, short_));
        join(store.touch(List.of(new Held("t", "s1")), "g1", TTL));
        join(store.touch(List.of(new Held("t", "s1")), "g2", Duration.ofMillis(1))); // not its gateway: nothing
        assertThat((Long) probe.command("PTTL", RedisGatewaySessions.logKey("t"))).isGreaterThan(1000L);
        join(store.touch(List.of(new Held("t", "s1")), "g1", short_));
        long touched = System.nanoTime();
        Await.until(Duration.ofSeconds(5), "the record and log to expire", () -> Long.valueOf(0L).equals(
                probe.command("EXISTS", RedisGatewaySessions.recordKey("t"), RedisGatewaySessions.logKey("t"))));
        assertThat((System.nanoTime() - touched) / 1_000_000).as("ms alive after the last touch")
                .isGreaterThanOrEqualTo(250);
        assertThat(codeOf(store.append("t", "s1", "g1", bytes("x"), BOUNDS, short_))).isEqualTo(Code.NOT_FOUND);
        // A refresh names the sessions whose record is gone, not those whose record names another session.
        join(store.open("u", "s2", SECRET, "g2", TTL));
        assertThat(join(store.touch(List.of(new Held("t", "s1"), new Held("u", "s1")), "g1", TTL)))
                .containsExactly(new Held("t", "s1"));
    }

    @Test
    void aDeadGatewaysSessionIsEndedByExactlyOneSweeperAndNotAtAllIfItMoved() {
        join(store.open("a", "sa", SECRET, "dead", TTL));
        join(store.open("b", "sb", SECRET, "dead", TTL));
        join(store.open("c", "sc", SECRET, "dead", TTL));
        join(store.takeOver("b", "sb", SECRET, 0, null, "alive", NEXT, TTL)); // resumed elsewhere
        probe.command("DEL", RedisGatewaySessions.recordKey("c")); // expired meanwhile
        assertThat(join(store.heldBy("dead"))).containsExactlyInAnyOrder(new Held("a", "sa"), new Held("c", "sc"));
        CompletableFuture<Boolean> one = store.endOrphan("a", "sa", "dead");
        CompletableFuture<Boolean> two = store.endOrphan("a", "sa", "dead");
        assertThat(List.of(join(one), join(two))).containsExactlyInAnyOrder(true, false);
        assertThat(join(store.endOrphan("b", "sb", "dead"))).as("moved: not its to end").isFalse();
        assertThat(join(store.endOrphan("c", "sc", "dead"))).as("expired: ended once").isTrue();
        assertThat(join(store.endOrphan("c", "sc", "dead"))).isFalse();
        assertThat(join(store.heldBy("dead"))).isEmpty();
        assertThat(join(store.append("b", "sb", "alive", bytes("p"), BOUNDS, TTL))).isEqualTo(1);
        assertThat(codeOf(store.append("a", "sa", "dead", bytes("p"), BOUNDS, TTL))).isEqualTo(Code.NOT_FOUND);
    }

    @Test
    void everyKeyOfASessionHasTheSameHashTagSoOneClusterSlot() {
        String tag = "{gw:player:x}";
        assertThat(RedisGatewaySessions.recordKey("player:x")).isEqualTo("braid:" + tag + ":s");
        assertThat(RedisGatewaySessions.logKey("player:x")).isEqualTo("braid:" + tag + ":log");
        assertThat(RedisGatewaySessions.previousKey("player:x")).isEqualTo("braid:" + tag + ":prev");
    }

    /**
     * A burst larger than Redis answers within the command timeout (1 s here) while Redis is busy
     * but answering (a client keeps it in 25 ms scripts, so it serves the store between them):
     * every append of the burst is taken, numbered 1..N in the order sent. The burst waits in the
     * store's queue, where no command timer runs, not in Lettuce's, where each command's timer
     * starts when it is sent ({@link io.braid.redis.internal.CommandQueue#DEFAULT_MAX_IN_FLIGHT}).
     */
    @Test
    void aBurstLargerThanRedisAnswersWithinTheTimeoutQueuesAndNoCommandTimesOut() throws Exception {
        int burst = Integer.getInteger("gateway.storeBurst", 5000);
        join(store.open("t", "s1", SECRET, "g1", TTL));
        try (BusyRedis busy = BusyRedis.start(redis, Duration.ofMillis(25))) {
            List<CompletableFuture<Long>> sent = new java.util.ArrayList<>(burst);
            for (int i = 0; i < burst; i++) {
                sent.add(store.append("t", "s1", "g1", bytes("p" + i), BOUNDS, TTL));
            }
            long started = System.nanoTime();
            int failed = 0;
            String firstFailure = null;
            List<Long> seqs = new java.util.ArrayList<>(burst);
            for (int i = 0; i < burst; i++) {
                try {
                    seqs.add(sent.get(i).get(120, java.util.concurrent.TimeUnit.SECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    failed++;
                    firstFailure = firstFailure == null ? e.getCause().toString() : firstFailure;
                }
            }
            System.out.printf("a burst of %d appends while Redis ran %d busy scripts: %d failed, %d ms%n", burst,
                    busy.scripts(), failed, (System.nanoTime() - started) / 1_000_000);
            assertThat(failed).as("appends that failed; the first: %s", firstFailure).isZero();
            assertThat(seqs).as("seqs in the order sent")
                    .isEqualTo(java.util.stream.LongStream.rangeClosed(1, burst).boxed().toList());
        }
    }

    @Test
    void withRedisDeadEveryChangeFailsUnavailable() {
        join(store.open("t", "s1", SECRET, "g1", TTL));
        redis.kill();
        assertThat(codeOf(store.append("t", "s1", "g1", bytes("x"), BOUNDS, TTL))).isEqualTo(Code.UNAVAILABLE);
        assertThat(codeOf(store.takeOver("t", "s1", SECRET, 0, null, "g2", NEXT, TTL))).isEqualTo(Code.UNAVAILABLE);
        assertThat(codeOf(store.open("u", "s", SECRET, "g1", TTL))).isEqualTo(Code.UNAVAILABLE);
        GatewaySessionStore closed = store;
        store.close();
        assertThat(codeOf(closed.end("t", "s1", "g1"))).isEqualTo(Code.UNAVAILABLE);
    }
}
