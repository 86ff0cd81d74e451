package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.Resumed;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import io.braid.testkit.TcpProxy;
import io.braid.testkit.TcpProxy.Direction;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A resume whose {@code Resumed} answer never reaches the client (the takeover in the store rotated
 * the secret, then the answer was lost): the client asks again with the resume token it still
 * holds, and must get its session back with exactly the missed pushes, no relogin, and no end event
 * a logic node would take for a logout. And the other side of that rule: once the client has
 * proven it holds the new token (it sent a frame on the resumed connection), the old token no
 * longer works. In memory here; {@code RedisLostResumedAnswerTest} runs the same on a redis-server.
 */
class LostResumedAnswerTest {
    static final Duration WAIT = TestClient.WAIT;
    static final Duration LONG_GRACE = Duration.ofSeconds(20);

    GatewayFixture cluster;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    GatewayFixture fixture() {
        return GatewayFixture.inMemory();
    }

    @BeforeEach
    void start() {
        cluster = fixture();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
        cluster.close();
    }

    private TcpProxy proxy(InetSocketAddress target) {
        TcpProxy proxy = TcpProxy.to(target);
        toClose.add(proxy);
        return proxy;
    }

    private final List<ClientEvent> events = new CopyOnWriteArrayList<>();
    private final List<Long> seqs = new CopyOnWriteArrayList<>();
    private final List<String> payloads = new CopyOnWriteArrayList<>();

    private GatewayClient client(List<InetSocketAddress> addresses, String player) {
        GatewayClient client = GatewayClient.builder()
                .addresses(addresses)
                .transport(Transport.TCP)
                .credentials(("player:" + player).getBytes(StandardCharsets.UTF_8))
                .connectTimeout(Duration.ofMillis(700))
                .reconnect(Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(15))
                .onPush((seq, payload) -> {
                    seqs.add(seq);
                    payloads.add(new String(payload, StandardCharsets.UTF_8));
                })
                .onEvent(events::add).build();
        toClose.add(client);
        return client;
    }

    private List<ClientEvent.Type> types() {
        return events.stream().map(ClientEvent::type).toList();
    }

    private void awaitEvents(ClientEvent.Type type, int count) {
        Await.until(WAIT, () -> count + " x " + type + "; heard " + events,
                () -> events.stream().filter(event -> event.type() == type).count() >= count);
    }

    private void awaitPushes(int count) {
        Await.until(WAIT, () -> count + " pushes; heard " + seqs, () -> seqs.size() >= count);
    }

    private void awaitGatewayEvents(String token, SessionEvent.Type type, int count) {
        Await.until(WAIT, () -> count + " x " + type + " of " + token + "; fired " + cluster.eventsOf(token),
                () -> cluster.eventsOf(token).stream().filter(event -> event.type() == type).count() >= count);
    }

    /** Pushes "p<from>".."p<to>", asking again while the binding moves; asserts their numbers. */
    private void push(String token, long from, long to) {
        for (long i = from; i <= to; i++) {
            AtomicReference<Long> seq = new AtomicReference<>();
            String payload = "p" + i;
            Await.until(WAIT, "push " + i + " to " + token + " to be taken", () -> {
                try {
                    seq.set(cluster.pusher().push(token, payload.getBytes(StandardCharsets.UTF_8)).join());
                    return true;
                } catch (RuntimeException e) {
                    if (BraidException.from(e).code() == Code.UNAVAILABLE) {
                        return false;
                    }
                    throw e;
                }
            });
            assertThat(seq.get()).as("push %d", i).isEqualTo(i);
        }
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    private static List<String> payloads(long from, long to) {
        return LongStream.rangeClosed(from, to).mapToObj(i -> "p" + i).toList();
    }

    /**
     * Logs in, drops, lets pushes 4..6 be buffered, then lets the client resume through {@code
     * swallowing} whose answers are lost: waits until the gateway took the session over (RESUMED
     * fired) and push 7 was accepted on the resumed connection the client never heard of.
     */
    private void resumeWithALostAnswer(String token, TcpProxy first, TcpProxy swallowing,
                                       GatewayFixture.GatewayNode firstGateway) {
        push(token, 1, 3);
        awaitPushes(3);
        first.refuse(true);
        swallowing.refuse(true);
        first.closeAll();
        awaitEvents(ClientEvent.Type.DISCONNECTED, 1);
        Await.until(WAIT, "the session to detach", () -> firstGateway.gateway().sessionCount() == 0);
        push(token, 4, 6);
        swallowing.drop(Direction.TO_CLIENT, true);
        swallowing.refuse(false);
        awaitGatewayEvents(token, SessionEvent.Type.RESUMED, 1); // the takeover happened; Resumed is lost
        // No new attempt gets through until push 7 is in: the next resume surely replays 4..7 (one
        // that began before push 7, answered after the drop ends, would replay 4..6 and get 7 live).
        swallowing.refuse(true);
        push(token, 7, 7);
    }

    private void assertResumedWithExactlyTheMissedPushes(String token, GatewayClient client, String sessionId) {
        awaitEvents(ClientEvent.Type.RESUMED, 1);
        assertThat(events.stream().filter(event -> event.type() == ClientEvent.Type.RESUMED).findFirst()
                .orElseThrow().replayed()).as("replayed").isEqualTo(4);
        awaitPushes(7);
        push(token, 8, 9);
        awaitPushes(9);
        assertThat(seqs).containsExactlyElementsOf(range(1, 9));
        assertThat(payloads).containsExactlyElementsOf(payloads(1, 9));
        assertThat(client.session().orElseThrow().sessionId()).isEqualTo(sessionId);
        assertThat(types()).doesNotContain(ClientEvent.Type.RELOGGED, ClientEvent.Type.GAP, ClientEvent.Type.CLOSED);
        assertThat(client.stats().relogins()).isZero();
        assertThat(new String(client.call("logic.player.act", "on".getBytes(StandardCharsets.UTF_8)).join(),
                StandardCharsets.UTF_8)).isEqualTo("acted:" + token + ":on");
        // Logic nodes see no logout: the session was bound once and resumed twice, never ended.
        assertThat(cluster.eventsOf(token)).extracting(SessionEvent::type).containsExactly(
                SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED, SessionEvent.Type.RESUMED);
    }

    @Test
    void aResumeWhoseAnswerWasLostIsAskedAgainWithTheSameTokenOnTheSameGatewayAndResumes() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy proxy = proxy(one.tcp());
        GatewayClient client = client(List.of(proxy.address()), "lost-same");
        String sessionId = client.connect().join().sessionId();
        String token = "player:lost-same";

        resumeWithALostAnswer(token, proxy, proxy, one);
        // The client's attempt times out (connectTimeout); it closes and asks again, same token, same last seq.
        proxy.drop(Direction.TO_CLIENT, false);
        proxy.refuse(false);

        assertResumedWithExactlyTheMissedPushes(token, client, sessionId);
        assertThat(cluster.boundTo(token)).isEqualTo(one.id());
    }

    @Test
    void aResumeWhoseAnswerWasLostIsAskedAgainOnAnotherGatewayAndResumesThere() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy toOne = proxy(one.tcp());
        TcpProxy toTwo = proxy(two.tcp());
        GatewayClient client = client(List.of(toOne.address(), toTwo.address()), "lost-other");
        String sessionId = client.connect().join().sessionId();
        String token = "player:lost-other";

        toTwo.refuse(true);
        resumeWithALostAnswer(token, toOne, toOne, one);
        // gateway-1 is unreachable from now on: the client's next attempt goes to gateway-2.
        toOne.refuse(true);
        toOne.closeAll();
        toOne.drop(Direction.TO_CLIENT, false);
        toTwo.refuse(false);

        assertResumedWithExactlyTheMissedPushes(token, client, sessionId);
        assertThat(cluster.boundTo(token)).isEqualTo(two.id());
        assertThat(one.gateway().sessionCount()).isZero();
    }

    @Test
    void theOldTokenWorksOnlyUntilTheClientProvesItHasTheNewOne() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(LONG_GRACE));
        String token = "player:leak";
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login(token).getLoginOk();
        String oldToken = login.getResumeToken();
        first.close();
        Await.until(WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);

        // A resume that the client proves (a Ping after Resumed) ...
        TestClient second = TestClient.tcp(two.tcp());
        Resumed resumed = second.resume(oldToken, 0).getResumed();
        second.ping(1);
        second.await(ServerFrame::hasPong, "the pong");
        second.close();
        Await.until(WAIT, "the session to detach", () -> two.gateway().sessionCount() == 0);
        // ... leaves the old token worthless, on either gateway.
        for (GatewayFixture.GatewayNode node : List.of(one, two)) {
            TestClient thief = TestClient.tcp(node.tcp());
            ServerFrame refused = thief.resume(oldToken, 0);
            assertThat(refused.hasError()).as("old token on %s: %s", node.id(), refused).isTrue();
            assertThat(refused.getError().getCode()).isEqualTo(Code.UNAUTHENTICATED.value());
            thief.awaitClosed();
            thief.close();
        }
        // The new token works, and a resume the client never proves leaves the one before it good.
        TestClient third = TestClient.tcp(one.tcp());
        Resumed again = third.resume(resumed.getResumeToken(), 0).getResumed();
        third.close(); // never a frame after Resumed: as if Resumed was lost
        Await.until(WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);
        TestClient retry = TestClient.tcp(two.tcp());
        ServerFrame retried = retry.resume(resumed.getResumeToken(), 0);
        assertThat(retried.hasResumed()).as("%s", retried).isTrue();
        assertThat(again.getResumeToken()).isNotEqualTo(retried.getResumed().getResumeToken());
        retry.close();
        assertThat(cluster.eventsOf(token)).extracting(SessionEvent::type).containsExactly(SessionEvent.Type.BOUND,
                SessionEvent.Type.RESUMED, SessionEvent.Type.RESUMED, SessionEvent.Type.RESUMED);
    }
}
