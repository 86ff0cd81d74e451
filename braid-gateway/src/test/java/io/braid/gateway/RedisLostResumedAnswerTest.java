package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.TcpProxy;
import io.braid.testkit.RedisProbe;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link LostResumedAnswerTest} on one real redis-server (the store's rule for the previous secret
 * on Redis), and the case the issue met under load: a resume on another gateway whose claim is so
 * slow (Redis stalls) that the client gives up and closes its connection before the takeover lands.
 */
class RedisLostResumedAnswerTest extends LostResumedAnswerTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Override
    GatewayFixture fixture() {
        redis.server().flushAll();
        // Redis is stalled on purpose here while a claim waits on it: the claim must outlast the
        // stall (under load it can pass the default 2 s), or the takeover this test is about never lands.
        return GatewayFixture.onRedis(redis.server().uri(), node -> node.redisCommandTimeout(Duration.ofSeconds(8)));
    }

    /**
     * Player {@code token}, logged in on gateway-1 through {@code toOne}, drops; push 2 is buffered;
     * then Redis stalls while the client resumes on gateway-2, whose claim lands after the client's
     * attempt timed out and moved on. Returns once the store accepts the client's token again.
     */
    private void stallAResumeUntilTheClientGivesUp(String token, GatewayFixture.GatewayNode one,
                                                   GatewayFixture.GatewayNode two, TcpProxy toOne, TcpProxy toTwo,
                                                   List<Long> seqs) {
        stallAResumeUntilTheClientGivesUp(token, one, two, toOne, toTwo, seqs, Duration.ZERO);
    }

    /**
     * As above, and Redis stays stalled at least {@code stallAtLeast} after the client reached
     * gateway-2 (a fault of that length): longer than gateway-2's claim call may take, that call
     * has failed at gateway-2 before gateway-1's takeover lands.
     */
    private void stallAResumeUntilTheClientGivesUp(String token, GatewayFixture.GatewayNode one,
                                                   GatewayFixture.GatewayNode two, TcpProxy toOne, TcpProxy toTwo,
                                                   List<Long> seqs, Duration stallAtLeast) {
        assertThat(cluster.pusher().push(token, "p1".getBytes(StandardCharsets.UTF_8)).join()).isEqualTo(1);
        Await.until(WAIT, "push 1", () -> seqs.size() == 1);
        toOne.refuse(true);
        toTwo.refuse(true);
        toOne.closeAll();
        Await.until(WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);
        assertThat(cluster.pusher().push(token, "p2".getBytes(StandardCharsets.UTF_8)).join()).isEqualTo(2);

        // Redis stalls (under the command timeout) while the client resumes on gateway-2: the
        // claim waits, the client's attempt times out and it moves on; then the claim lands, too late.
        if (!stallAtLeast.isZero()) {
            // gateway-2 knows where the token is bound before Redis stalls, so its claim reaches
            // gateway-1 (rather than waiting on Redis for the link) and the takeover is under way.
            assertThat(two.node().linkCache().targetAsync(token, GatewayFixture.SERVICE).join()).contains(one.id());
        }
        long acceptedByTwo = toTwo.acceptedConnections();
        long acceptedByOne = toOne.acceptedConnections();
        redis.server().pause();
        try {
            toTwo.refuse(false);
            Await.until(WAIT, "the client to resume on gateway-2", () -> toTwo.acceptedConnections() > acceptedByTwo);
            long reachedTwo = System.nanoTime();
            toTwo.refuse(true);
            Await.until(WAIT, "the client to give up on gateway-2", () -> toOne.acceptedConnections() > acceptedByOne);
            long stalledFor = System.nanoTime() - reachedTwo;
            if (stalledFor < stallAtLeast.toNanos()) {
                TimeUnit.NANOSECONDS.sleep(stallAtLeast.toNanos() - stalledFor); // the fault lasts this long
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            redis.server().resume();
        }
        // Either the takeover landed on a connection already gone, and gateway-2 lets the token the
        // client holds work again; or (on a loaded machine) the claim could not even be sent before
        // its deadline while Redis stalled, so the record never moved and that token works as it is.
        try (RedisProbe probe = redis.server().probe()) {
            Await.until(WAIT, () -> "the previous secret accepted again, or the record still on gateway-1; record "
                    + probe.command("HGETALL", "braid:{gw:" + token + "}:s") + ", gateway-1 holds "
                    + one.gateway().sessionCount() + ", gateway-2 holds " + two.gateway().sessionCount()
                    + ", connections to gateway-2 open " + toTwo.openConnections(), () ->
                    Long.valueOf(1L).equals(probe.command("EXISTS", "braid:{gw:" + token + "}:prev"))
                            || one.id().equals(probe.command("HGET", "braid:{gw:" + token + "}:s", "gw")));
        }
    }

    /** With a long stall the claim reached gateway-1 and its takeover landed: the record names gateway-2. */
    private static void assertTakeoverLandedWhenItShould(String token, GatewayFixture.GatewayNode two,
                                                         Duration stallAtLeast) {
        if (stallAtLeast.isZero()) {
            return;
        }
        try (RedisProbe probe = redis.server().probe()) {
            Await.until(WAIT, "the late takeover to land", () ->
                    two.id().equals(probe.command("HGET", "braid:{gw:" + token + "}:s", "gw")));
        }
    }

    @Test
    void aResumeThatCompletesAfterTheClientGaveUpOnItCanBeAskedAgainWithTheSameToken() {
        askedAgainWithTheSameToken(Gateway.DEFAULT_CALL_TIMEOUT, Duration.ZERO);
    }

    /**
     * The claimant gave up too: gateway-2's claim call timed out while gateway-1's takeover waited on
     * Redis, which then landed it. The record names gateway-2, which holds no session; the token the
     * client holds must still work (gateway-1 saw the claim abandoned when the takeover landed).
     */
    @Test
    void aResumeWhoseClaimTimedOutBeforeItsTakeoverLandedCanBeAskedAgainWithTheSameToken() {
        askedAgainWithTheSameToken(CLAIM_TIMEOUT, CLAIM_TIMEOUT.multipliedBy(5));
    }

    /** Short enough that a stall of five times it certainly outlasts gateway-2's claim call. */
    private static final Duration CLAIM_TIMEOUT = Duration.ofMillis(300);

    private void askedAgainWithTheSameToken(Duration twoCallTimeout, Duration stallAtLeast) {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2",
                builder -> builder.resumeGrace(LONG_GRACE).callTimeout(twoCallTimeout));
        TcpProxy toOne = TcpProxy.to(one.tcp());
        TcpProxy toTwo = TcpProxy.to(two.tcp());
        List<ClientEvent> events = new CopyOnWriteArrayList<>();
        List<Long> seqs = new CopyOnWriteArrayList<>();
        try (toOne; toTwo; GatewayClient client = GatewayClient.builder()
                .addresses(List.of(toOne.address(), toTwo.address())).transport(Transport.TCP)
                .credentials("player:slow".getBytes(StandardCharsets.UTF_8))
                .connectTimeout(Duration.ofMillis(400))
                .reconnect(Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(20))
                .onPush((seq, payload) -> seqs.add(seq)).onEvent(events::add).build()) {
            String sessionId = client.connect().join().sessionId();
            String token = "player:slow";
            stallAResumeUntilTheClientGivesUp(token, one, two, toOne, toTwo, seqs, stallAtLeast);
            assertTakeoverLandedWhenItShould(token, two, stallAtLeast);
            toTwo.refuse(false);

            Await.until(WAIT, () -> "RESUMED; heard " + events,
                    () -> events.stream().anyMatch(event -> event.type() == ClientEvent.Type.RESUMED));
            Await.until(WAIT, "push 2 replayed", () -> seqs.size() == 2);
            assertThat(seqs).containsExactly(1L, 2L);
            assertThat(events).extracting(ClientEvent::type).doesNotContain(ClientEvent.Type.RELOGGED);
            assertThat(client.session().orElseThrow().sessionId()).isEqualTo(sessionId);
            assertThat(cluster.eventsOf(token)).extracting(SessionEvent::type)
                    .doesNotContain(SessionEvent.Type.CLOSED, SessionEvent.Type.KICKED);
        }
    }

    @Test
    void aResumeThatCompletesAfterTheClientGaveUpAndIsNeverAskedAgainClosesOnceAfterTheGrace() {
        closesOnceAfterTheGrace(Gateway.DEFAULT_CALL_TIMEOUT, Duration.ZERO);
    }

    /** As above, when gateway-2's claim call timed out before gateway-1's takeover landed. */
    @Test
    void aResumeWhoseClaimTimedOutBeforeItsTakeoverLandedAndIsNeverAskedAgainClosesOnceAfterTheGrace() {
        closesOnceAfterTheGrace(CLAIM_TIMEOUT, CLAIM_TIMEOUT.multipliedBy(5));
    }

    private void closesOnceAfterTheGrace(Duration twoCallTimeout, Duration stallAtLeast) {
        Duration grace = Duration.ofSeconds(3);
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(grace));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2",
                builder -> builder.resumeGrace(grace).callTimeout(twoCallTimeout));
        TcpProxy toOne = TcpProxy.to(one.tcp());
        TcpProxy toTwo = TcpProxy.to(two.tcp());
        List<Long> seqs = new CopyOnWriteArrayList<>();
        String token = "player:gone";
        try (toOne; toTwo; GatewayClient client = GatewayClient.builder()
                .addresses(List.of(toOne.address(), toTwo.address())).transport(Transport.TCP)
                .credentials(token.getBytes(StandardCharsets.UTF_8))
                .connectTimeout(Duration.ofMillis(400))
                .reconnect(Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(20))
                .onPush((seq, payload) -> seqs.add(seq)).build()) {
            String sessionId = client.connect().join().sessionId();
            stallAResumeUntilTheClientGivesUp(token, one, two, toOne, toTwo, seqs, stallAtLeast);
            assertTakeoverLandedWhenItShould(token, two, stallAtLeast);
            client.close(); // the player never comes back

            // Logic nodes hear the end once, after the grace, from the gateway the record moved to.
            Await.until(WAIT, () -> "CLOSED; events " + cluster.eventsOf(token), () -> cluster.eventsOf(token)
                    .stream().anyMatch(event -> event.type() == SessionEvent.Type.CLOSED));
            assertThat(cluster.eventsOf(token)).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
            SessionEvent closed = cluster.eventsOf(token).get(1);
            assertThat(closed.sessionId()).isEqualTo(sessionId);
            // gateway-2 when its late takeover landed; gateway-1 when the claim never left gateway-2.
            assertThat(closed.gatewayNode()).isIn(one.id(), two.id());
            Await.until(WAIT, "the binding gone", () -> cluster.boundTo(token) == null);
            try (RedisProbe probe = redis.server().probe()) {
                assertThat(probe.command("EXISTS", "braid:{gw:" + token + "}:s")).isEqualTo(0L);
            }
        }
    }
}
