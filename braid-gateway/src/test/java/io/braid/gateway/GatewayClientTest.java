package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.ClientStats;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.SessionInfo;
import io.braid.gateway.client.Transport;
import io.braid.gateway.proto.ClientFrame;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The Java client against real gateways (GatewayFixture) on loopback: login, calls and pushes on
 * both transports; drops made by a {@link TcpProxy} between client and gateway, resumed on the
 * same and on the other gateway with exactly the missed pushes; a relogin when the grace is over;
 * no reconnect after a kick; what calls in flight across a drop see.
 */
class GatewayClientTest {
    static final Duration WAIT = TestClient.WAIT;
    static final Duration LONG_GRACE = Duration.ofSeconds(20);

    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
        cluster.close();
    }

    /** What a client's listeners heard. */
    static final class Heard {
        final List<ClientEvent> events = new CopyOnWriteArrayList<>();
        final List<Long> seqs = new CopyOnWriteArrayList<>();
        final List<String> payloads = new CopyOnWriteArrayList<>();

        List<ClientEvent.Type> types() {
            return events.stream().map(ClientEvent::type).toList();
        }

        ClientEvent awaitEvent(ClientEvent.Type type) {
            Await.until(WAIT, () -> "event " + type + "; heard " + events,
                    () -> events.stream().anyMatch(event -> event.type() == type));
            return events.stream().filter(event -> event.type() == type).findFirst().orElseThrow();
        }

        void awaitPushes(int count) {
            Await.until(WAIT, () -> count + " pushes; heard " + seqs, () -> seqs.size() >= count);
        }
    }

    private GatewayClient client(List<InetSocketAddress> addresses, Transport transport, String player, Heard heard,
                                 UnaryOperator<GatewayClient.Builder> settings) {
        GatewayClient client = settings.apply(GatewayClient.builder()
                .addresses(addresses)
                .transport(transport)
                .credentials(("player:" + player).getBytes(StandardCharsets.UTF_8))
                .reconnect(Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(15))
                .onPush((seq, payload) -> {
                    heard.seqs.add(seq);
                    heard.payloads.add(new String(payload, StandardCharsets.UTF_8));
                })
                .onEvent(heard.events::add)).build();
        toClose.add(client);
        return client;
    }

    private GatewayClient client(List<InetSocketAddress> addresses, Transport transport, String player, Heard heard) {
        return client(addresses, transport, player, heard, builder -> builder);
    }

    private TcpProxy proxy(InetSocketAddress target) {
        TcpProxy proxy = TcpProxy.to(target);
        toClose.add(proxy);
        return proxy;
    }

    private static InetSocketAddress address(GatewayFixture.GatewayNode node, Transport transport) {
        return transport == Transport.TCP ? node.tcp() : node.ws();
    }

    /** Pushes "p<from>".."p<to>", asking again while the binding moves; asserts their numbers. */
    private void push(String token, long from, long to) {
        for (long i = from; i <= to; i++) {
            assertThat(pushWhenReachable(token, "p" + i)).as("push %d", i).isEqualTo(i);
        }
    }

    private long pushWhenReachable(String token, String payload) {
        AtomicReference<Long> seq = new AtomicReference<>();
        Await.until(WAIT, "a push to " + token + " to be taken", () -> {
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
        return seq.get();
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    private static List<String> payloads(long from, long to) {
        return LongStream.rangeClosed(from, to).mapToObj(i -> "p" + i).toList();
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static Code codeOf(CompletableFuture<?> future) {
        try {
            future.join();
        } catch (RuntimeException e) {
            return BraidException.from(e).code();
        }
        throw new AssertionError("expected a failure, got " + future.join());
    }

    private static void awaitDetached(GatewayFixture.GatewayNode node) {
        Await.until(WAIT, "the session to detach", () -> node.gateway().sessionCount() == 0);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void logsInCallsAndReceivesPushesInOrder(Transport transport) {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
        Heard heard = new Heard();
        GatewayClient client = client(List.of(address(one, transport)), transport, "ann", heard);

        SessionInfo session = client.connect().join();
        assertThat(session.token()).isEqualTo("player:ann");
        assertThat(session.gateway()).isEqualTo(address(one, transport));
        assertThat(client.isOnline()).isTrue();
        assertThat(utf8(client.call("logic.player.act", "jump".getBytes(StandardCharsets.UTF_8)).join()))
                .isEqualTo("acted:player:ann:jump");
        // A failed call names the service's code; the session goes on.
        assertThat(codeOf(client.call("logic.player.fail", new byte[0]))).isEqualTo(Code.FAILED_PRECONDITION);
        assertThat(codeOf(client.call("logic.player.secret", new byte[0]))).isEqualTo(Code.NOT_FOUND);
        // Calls sent together are matched by seq.
        List<CompletableFuture<byte[]>> many = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            many.add(client.call("logic.player.act", ("m" + i).getBytes(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < 20; i++) {
            assertThat(utf8(many.get(i).join())).isEqualTo("acted:player:ann:m" + i);
        }
        push("player:ann", 1, 30);
        heard.awaitPushes(30);
        assertThat(heard.seqs).containsExactlyElementsOf(range(1, 30));
        assertThat(heard.payloads).containsExactlyElementsOf(payloads(1, 30));
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED);
        assertThat(client.stats()).isEqualTo(new ClientStats(30, 0, 0, 0, 0, 0, 0));
        assertThat(cluster.actedFor("player:ann")).isEqualTo(21);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aDroppedConnectionResumesOnTheSameGatewayWithExactlyTheMissedPushes(Transport transport) {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy proxy = proxy(address(one, transport));
        Heard heard = new Heard();
        GatewayClient client = client(List.of(proxy.address()), transport, "bob", heard);
        SessionInfo first = client.connect().join();
        push("player:bob", 1, 3);
        heard.awaitPushes(3);

        proxy.refuse(true);
        proxy.closeAll();
        heard.awaitEvent(ClientEvent.Type.DISCONNECTED);
        awaitDetached(one);
        push("player:bob", 4, 6); // buffered by the gateway for the grace
        proxy.refuse(false);

        ClientEvent resumed = heard.awaitEvent(ClientEvent.Type.RESUMED);
        assertThat(resumed.replayed()).isEqualTo(3);
        heard.awaitPushes(6);
        push("player:bob", 7, 8);
        heard.awaitPushes(8);
        assertThat(heard.seqs).containsExactlyElementsOf(range(1, 8));
        assertThat(heard.payloads).containsExactlyElementsOf(payloads(1, 8));
        assertThat(client.session().orElseThrow().sessionId()).isEqualTo(first.sessionId());
        assertThat(utf8(client.call("logic.player.act", "on".getBytes(StandardCharsets.UTF_8)).join()))
                .isEqualTo("acted:player:bob:on");
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.DISCONNECTED,
                ClientEvent.Type.RESUMED);
        assertThat(client.stats()).isEqualTo(new ClientStats(8, 0, 0, 0, 1, 1, 0));
        assertThat(cluster.eventsOf("player:bob")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
    }

    @Test
    void afterAResumeTheClientPingsAtOnceSoTheTokenItResumedWithStopsWorkingThoughItSendsNothingElse() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        FrameTap tap = new FrameTap();
        TcpProxy proxy = TcpProxy.to(one.tcp(), tap);
        toClose.add(proxy);
        Heard heard = new Heard();
        // pingEvery: the default 20 s, so no keepalive Ping within the test; and the client makes no call.
        GatewayClient client = client(List.of(proxy.address()), Transport.TCP, "proof", heard);
        String sessionId = client.connect().join().sessionId();
        String loginToken = tap.received(1).getFirst().getLoginOk().getResumeToken();
        push("player:proof", 1, 2);
        heard.awaitPushes(2);

        proxy.closeAll(); // the client resumes at once, through the proxy again, with the token of its LoginOk
        heard.awaitEvent(ClientEvent.Type.RESUMED);
        long resumedOn = tap.passed().stream().filter(frame -> frame.received() != null
                && frame.received().hasResumed()).findFirst().orElseThrow().connection();
        Resumed resumed = tap.received(resumedOn).getFirst().getResumed();
        client.close(); // no Logout: the session is kept for the grace, resumable
        awaitDetached(one);

        // The token the client resumed with is refused, though the resumed connection carried nothing
        // else (without the Ping it would resume the session: see A resume whose answer was lost).
        TestClient thief = TestClient.tcp(one.tcp());
        ServerFrame refused = thief.resume(loginToken, 2);
        thief.close();
        assertThat(refused.hasError()).as("a resume with the token the client resumed with: %s", refused).isTrue();
        assertThat(refused.getError().getCode()).isEqualTo(Code.UNAUTHENTICATED.value());
        assertThat(tap.sent(resumedOn)).extracting(ClientFrame::getKindCase)
                .containsExactly(ClientFrame.KindCase.RESUME, ClientFrame.KindCase.PING);
        assertThat(tap.sent(resumedOn).getFirst().getResume().getResumeToken()).isEqualTo(loginToken);
        // The session is intact: the new token resumes it.
        TestClient owner = TestClient.tcp(one.tcp());
        ServerFrame back = owner.resume(resumed.getResumeToken(), 2);
        owner.close();
        assertThat(back.hasResumed()).as("a resume with the new token: %s", back).isTrue();
        assertThat(back.getResumed().getSessionId()).isEqualTo(sessionId);
        assertThat(cluster.eventsOf("player:proof")).extracting(SessionEvent::type).containsExactly(
                SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED, SessionEvent.Type.RESUMED);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aClientThatCannotReachItsGatewayResumesOnTheOtherWithExactlyTheMissedPushes(Transport transport) {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy toOne = proxy(address(one, transport));
        TcpProxy toTwo = proxy(address(two, transport));
        Heard heard = new Heard();
        GatewayClient client = client(List.of(toOne.address(), toTwo.address()), transport, "cy", heard);
        client.connect().join();
        push("player:cy", 1, 3);
        heard.awaitPushes(3);

        toOne.refuse(true); // gateway-1 unreachable from now on
        toTwo.refuse(true); // and gateway-2 until the missed pushes are buffered
        toOne.closeAll();
        awaitDetached(one);
        push("player:cy", 4, 6);
        toTwo.refuse(false);

        ClientEvent resumed = heard.awaitEvent(ClientEvent.Type.RESUMED);
        assertThat(resumed.replayed()).isEqualTo(3);
        assertThat(resumed.detail()).contains(toTwo.address().toString());
        assertThat(client.session().orElseThrow().gateway()).isEqualTo(toTwo.address());
        Await.until(WAIT, "the binding to move", () -> "gateway-2".equals(cluster.boundTo("player:cy")));
        push("player:cy", 7, 9);
        heard.awaitPushes(9);
        assertThat(heard.seqs).containsExactlyElementsOf(range(1, 9));
        assertThat(heard.payloads).containsExactlyElementsOf(payloads(1, 9));
        assertThat(utf8(client.call("logic.player.act", "moved".getBytes(StandardCharsets.UTF_8)).join()))
                .isEqualTo("acted:player:cy:moved");
        assertThat(client.stats()).isEqualTo(new ClientStats(9, 0, 0, 0, 1, 1, 0));
        assertThat(cluster.eventsOf("player:cy")).extracting(SessionEvent::type, SessionEvent::gatewayNode)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.BOUND, "gateway-1"),
                        org.assertj.core.groups.Tuple.tuple(SessionEvent.Type.RESUMED, "gateway-2"));
    }

    @Test
    void pushesStreamingThroughADropAndAResumeOnTheOtherGatewayAreNeitherLostNorDuplicated() throws Exception {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy toOne = proxy(one.tcp());
        Heard heard = new Heard();
        GatewayClient client = client(List.of(toOne.address(), two.tcp()), Transport.TCP, "gil", heard);
        client.connect().join();
        int total = 300;
        List<Long> accepted = new CopyOnWriteArrayList<>();
        Thread pusher = Thread.ofVirtual().start(() -> {
            for (int i = 1; i <= total; i++) {
                accepted.add(pushWhenReachable("player:gil", "p" + i));
            }
        });
        heard.awaitPushes(50);
        toOne.refuse(true);
        toOne.closeAll(); // mid-stream; the client resumes on gateway-2 while the pushes go on
        pusher.join(WAIT.toMillis());
        assertThat(accepted).containsExactlyElementsOf(range(1, total));
        Await.until(WAIT, () -> "all " + total + " pushes; got " + heard.seqs.size(), () -> heard.seqs.size() == total);
        assertThat(heard.seqs).containsExactlyElementsOf(range(1, total));
        assertThat(heard.payloads).containsExactlyElementsOf(payloads(1, total));
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.DISCONNECTED,
                ClientEvent.Type.RESUMED);
        ClientStats stats = client.stats();
        assertThat(stats.duplicatesSuppressed()).isZero();
        assertThat(stats.gaps()).isZero();
        assertThat(stats.resumes()).isEqualTo(1);
        System.out.printf("client streaming resume: %d pushes, %d replayed on gateway-2%n", total,
                heard.awaitEvent(ClientEvent.Type.RESUMED).replayed());
    }

    @Test
    void whenTheGraceIsOverTheClientLogsInAfreshAndPushesCountFromOne() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1"); // the fixture's grace: 300 ms
        TcpProxy proxy = proxy(one.tcp());
        Heard heard = new Heard();
        GatewayClient client = client(List.of(proxy.address()), Transport.TCP, "dee", heard);
        SessionInfo first = client.connect().join();
        push("player:dee", 1, 2);
        heard.awaitPushes(2);

        proxy.refuse(true);
        proxy.closeAll();
        Await.until(WAIT, "the session to close on the gateway",
                () -> cluster.eventsOf("player:dee").stream().anyMatch(e -> e.type() == SessionEvent.Type.CLOSED));
        proxy.refuse(false);

        ClientEvent relogged = heard.awaitEvent(ClientEvent.Type.RELOGGED);
        assertThat(relogged.detail()).contains("NOT_FOUND");
        SessionInfo second = client.session().orElseThrow();
        assertThat(second.sessionId()).isNotEqualTo(first.sessionId());
        assertThat(pushWhenReachable("player:dee", "fresh")).isEqualTo(1L);
        heard.awaitPushes(3);
        assertThat(heard.seqs).containsExactly(1L, 2L, 1L);
        assertThat(heard.payloads).containsExactly("p1", "p2", "fresh");
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.DISCONNECTED,
                ClientEvent.Type.RELOGGED);
        assertThat(client.stats()).isEqualTo(new ClientStats(3, 0, 0, 0, 1, 0, 1));
        assertThat(cluster.eventsOf("player:dee")).extracting(SessionEvent::type).containsExactly(
                SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED, SessionEvent.Type.BOUND);
    }

    @Test
    void whenItsGatewayNodeShutsDownTheClientLogsInAfreshOnTheOther() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(LONG_GRACE));
        Heard heard = new Heard();
        GatewayClient client = client(List.of(one.ws(), two.ws()), Transport.WEBSOCKET, "kay", heard);
        SessionInfo first = client.connect().join();
        push("player:kay", 1, 2);
        heard.awaitPushes(2);

        one.gateway().close(); // its sessions end (CLOSED): the resume on gateway-2 is refused NOT_FOUND
        one.node().close(); // and it leaves the gateway service (else it could be picked as the token's binder)
        ClientEvent relogged = heard.awaitEvent(ClientEvent.Type.RELOGGED);
        assertThat(relogged.detail()).contains("NOT_FOUND");
        SessionInfo second = client.session().orElseThrow();
        assertThat(second.gateway()).isEqualTo(two.ws());
        assertThat(second.sessionId()).isNotEqualTo(first.sessionId());
        assertThat(pushWhenReachable("player:kay", "again")).isEqualTo(1L);
        heard.awaitPushes(3);
        assertThat(heard.seqs).containsExactly(1L, 2L, 1L);
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.DISCONNECTED,
                ClientEvent.Type.RELOGGED);
        assertThat(client.stats().relogins()).isEqualTo(1);
    }

    @Test
    void aClientKickedByASecondLoginDoesNotReconnect() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2");
        Heard firstHeard = new Heard();
        GatewayClient first = client(List.of(one.tcp(), two.tcp()), Transport.TCP, "eve", firstHeard);
        first.connect().join();
        Heard secondHeard = new Heard();
        GatewayClient second = client(List.of(two.ws()), Transport.WEBSOCKET, "eve", secondHeard);
        second.connect().join();

        ClientEvent kicked = firstHeard.awaitEvent(ClientEvent.Type.KICKED);
        assertThat(kicked.detail()).isNotBlank();
        first.whenFinished().join();
        assertThat(first.isFinished()).isTrue();
        CompletableFuture<byte[]> late = first.call("logic.player.act", new byte[0]);
        assertThat(codeOf(late)).isEqualTo(Code.FAILED_PRECONDITION);
        assertThatThrownBy(late::join).hasMessageContaining("kicked");
        Await.until(WAIT, "gateway-1 to hold no connection", () -> one.gateway().connectionCount() == 0);
        assertThat(firstHeard.types()).containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.KICKED);
        assertThat(first.stats().disconnects()).isZero();
        // The winner plays on.
        assertThat(utf8(second.call("logic.player.act", "won".getBytes(StandardCharsets.UTF_8)).join()))
                .isEqualTo("acted:player:eve:won");
        assertThat(cluster.eventsOf("player:eve")).extracting(SessionEvent::type).containsExactly(
                SessionEvent.Type.BOUND, SessionEvent.Type.KICKED, SessionEvent.Type.BOUND);
    }

    @Test
    void callsAcrossADropFailUnavailableIfSentWaitIfNotAndAreNeverDuplicated() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy proxy = proxy(one.tcp());
        Heard heard = new Heard();
        GatewayClient client = client(List.of(proxy.address()), Transport.TCP, "fay", heard,
                builder -> builder.callTimeout(Duration.ofSeconds(2)));
        client.connect().join();

        // Sent, but the gateway never gets it; then the connection drops: UNAVAILABLE, not resent.
        proxy.drop(Direction.TO_UPSTREAM, true);
        CompletableFuture<byte[]> inFlight = client.call("logic.player.act", "lost".getBytes(StandardCharsets.UTF_8));
        Await.until(WAIT, "the call to be written", () -> proxy.droppedBytes() > 0);
        proxy.refuse(true);
        proxy.closeAll();
        proxy.drop(Direction.TO_UPSTREAM, false);
        assertThat(codeOf(inFlight)).isEqualTo(Code.UNAVAILABLE);
        assertThatThrownBy(inFlight::join).hasMessageContaining("may or may not have run");

        // Made while reconnecting: waits; past its deadline it fails DEADLINE_EXCEEDED, never sent.
        CompletableFuture<byte[]> tooLate = client.call("logic.player.act", "late".getBytes(StandardCharsets.UTF_8));
        assertThat(codeOf(tooLate)).isEqualTo(Code.DEADLINE_EXCEEDED);
        assertThatThrownBy(tooLate::join).hasMessageContaining("not sent");
        // Made while reconnecting and the session comes back in time: sent once after the resume.
        CompletableFuture<byte[]> waiting = client.call("logic.player.act", "wait".getBytes(StandardCharsets.UTF_8));
        proxy.refuse(false);
        assertThat(utf8(waiting.join())).isEqualTo("acted:player:fay:wait");
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.DISCONNECTED,
                ClientEvent.Type.RESUMED);
        assertThat(cluster.actedFor("player:fay")).as("only the call after the resume ran").isEqualTo(1);
    }

    @Test
    void unansweredCallsExpireEachAtItsOwnDeadlineInTheOrderTheyWereMadeAndLaterCallsStillWork() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy proxy = proxy(one.tcp());
        Heard heard = new Heard();
        GatewayClient client = client(List.of(proxy.address()), Transport.TCP, "gil", heard,
                builder -> builder.callTimeout(Duration.ofSeconds(2)));
        client.connect().join();

        // Sent, never answered (the gateway never gets them): the first fails at its deadline while
        // the second, made a second later, still waits for its own.
        proxy.drop(Direction.TO_UPSTREAM, true);
        long start = System.nanoTime();
        CompletableFuture<byte[]> first = client.call("logic.player.act", "a".getBytes(StandardCharsets.UTF_8));
        Await.until(WAIT, "the first call to be written", () -> proxy.droppedBytes() > 0);
        Await.until(WAIT, "a second to pass", () -> System.nanoTime() - start >= 1_000_000_000L);
        CompletableFuture<byte[]> second = client.call("logic.player.act", "b".getBytes(StandardCharsets.UTF_8));
        assertThat(codeOf(first)).isEqualTo(Code.DEADLINE_EXCEEDED);
        assertThat(System.nanoTime() - start).as("not before its deadline").isGreaterThanOrEqualTo(2_000_000_000L);
        assertThat(second).as("the second call's deadline is a second later").isNotDone();
        assertThatThrownBy(first::join).hasMessageContaining("no reply to logic.player.act within 2000 ms");
        assertThat(codeOf(second)).isEqualTo(Code.DEADLINE_EXCEEDED);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(3_000_000_000L);

        // The connection is fine: a call made now is answered and does not expire.
        proxy.drop(Direction.TO_UPSTREAM, false);
        assertThat(utf8(client.call("logic.player.act", "c".getBytes(StandardCharsets.UTF_8)).join()))
                .isEqualTo("acted:player:gil:c");
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED);
    }

    @Test
    void keepalivePingsHoldAnIdleConnectionAndWithoutThemTheGatewayDropsItAndTheClientResumes() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder
                .resumeGrace(LONG_GRACE).idleTimeout(Duration.ofMillis(600)));
        Heard pinging = new Heard();
        GatewayClient steady = client(List.of(one.tcp()), Transport.TCP, "gus", pinging,
                builder -> builder.pingEvery(Duration.ofMillis(150)));
        steady.connect().join();
        Heard silent = new Heard();
        GatewayClient quiet = client(List.of(one.ws()), Transport.WEBSOCKET, "hal", silent,
                builder -> builder.pingEvery(Duration.ofSeconds(30)));
        quiet.connect().join();

        // The silent client is dropped by the gateway's idle timeout and resumes by itself.
        ClientEvent dropped = silent.awaitEvent(ClientEvent.Type.DISCONNECTED);
        assertThat(dropped.detail()).contains("idle timeout");
        Await.until(WAIT, () -> "two resumes; heard " + silent.events, () -> quiet.stats().resumes() >= 2);
        // Meanwhile (two idle timeouts and more) the pinging one was never dropped.
        assertThat(pinging.types()).containsExactly(ClientEvent.Type.CONNECTED);
        assertThat(steady.stats().disconnects()).isZero();
    }

    @Test
    void aConnectionThatGoesSilentIsTakenForDeadAndTheSessionResumesWithWhatWasLostInTransit() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        TcpProxy proxy = proxy(one.tcp());
        Heard heard = new Heard();
        GatewayClient client = client(List.of(proxy.address()), Transport.TCP, "jo", heard,
                builder -> builder.pingEvery(Duration.ofMillis(100)));
        client.connect().join();
        push("player:jo", 1, 1);
        heard.awaitPushes(1);

        proxy.silenceAll(); // half-open: nothing passes, nobody sees a close
        push("player:jo", 2, 3); // written by the gateway into the silent connection: lost in transit
        ClientEvent dead = heard.awaitEvent(ClientEvent.Type.DISCONNECTED);
        assertThat(dead.detail()).contains("nothing from the gateway for 300 ms");
        // The gateway still holds the old connection; the resume takes the session over from it.
        heard.awaitEvent(ClientEvent.Type.RESUMED);
        heard.awaitPushes(3);
        push("player:jo", 4, 4);
        heard.awaitPushes(4);
        assertThat(heard.seqs).containsExactlyElementsOf(range(1, 4));
        assertThat(heard.payloads).containsExactlyElementsOf(payloads(1, 4));
        assertThat(client.stats()).isEqualTo(new ClientStats(4, 0, 0, 0, 1, 1, 0));
    }

    @Test
    void aLogoutEndsTheSessionOnTheGatewayAtOnceAndFinishesTheClient() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(LONG_GRACE));
        Heard heard = new Heard();
        GatewayClient client = client(List.of(one.ws()), Transport.WEBSOCKET, "lou", heard);
        client.connect().join();
        client.logout().join(); // completes when the gateway has closed the connection
        assertThat(client.isFinished()).isTrue();
        client.whenFinished().join();
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.CLOSED);
        assertThat(heard.events.get(1).detail()).isEqualTo("logged out");
        // No grace: the session ended at once, unbound.
        Await.until(WAIT, "the CLOSED event", () -> cluster.eventsOf("player:lou").size() == 2);
        assertThat(cluster.eventsOf("player:lou")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
        Await.until(WAIT, "the binding to go", () -> cluster.boundTo("player:lou") == null);
        assertThat(codeOf(client.call("logic.player.act", new byte[0]))).isEqualTo(Code.FAILED_PRECONDITION);
        assertThat(client.stats().disconnects()).isZero();
    }

    @Test
    void aRefusedLoginFailsConnectWithTheGatewaysCode() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1");
        Heard heard = new Heard();
        GatewayClient client = GatewayClient.builder().addresses(List.of(one.tcp()))
                .credentials("nobody".getBytes(StandardCharsets.UTF_8)).onEvent(heard.events::add).build();
        toClose.add(client);
        assertThat(codeOf(client.connect())).isEqualTo(Code.UNAUTHENTICATED);
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CLOSED);
        assertThat(heard.events.getFirst().detail()).contains("UNAUTHENTICATED");
        assertThat(client.isFinished()).isTrue();
    }

    @Test
    void noGatewayToReachFailsConnectUnavailableAfterGiveUpAfter() throws Exception {
        InetSocketAddress nowhere;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            nowhere = new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), free.getLocalPort());
        }
        Heard heard = new Heard();
        GatewayClient client = client(List.of(nowhere), Transport.TCP, "ivy", heard,
                builder -> builder.reconnect(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(500)));
        long start = System.nanoTime();
        assertThat(codeOf(client.connect())).isEqualTo(Code.UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
        assertThat(heard.types()).containsExactly(ClientEvent.Type.CLOSED);
        assertThat(heard.events.getFirst().detail()).contains("gave up").contains("cannot connect");
    }
}
