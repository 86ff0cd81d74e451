package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.Push;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

/**
 * The scenarios of a gateway's death, run on each control plane ({@code GatewayDeathTest} in
 * memory, {@code RedisGatewayDeathTest} on one redis-server and on a Redis Cluster): sessions on a
 * gateway that dies (see {@link GatewayFixture#crash}) resume on another with exactly the pushes
 * they missed.
 */
final class GatewayDeath {
    static final Duration GRACE = Duration.ofSeconds(20);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private GatewayDeath() {
    }

    static GatewayFixture.GatewayNode gateway(GatewayFixture cluster, String id, Duration grace) {
        return cluster.gateway(id, builder -> builder.resumeGrace(grace));
    }

    /**
     * A player on gateway-1 while a logic-node pusher streams pushes (a new payload each attempt,
     * never the same one twice); its connection drops (the session detaches, pushes are still
     * accepted and logged); gateway-1 dies with pushes in flight; the player resumes on gateway-2
     * with the last push it saw (3 before the last one written to it). Every push the pusher saw accepted reaches the player
     * exactly once, at its seq; the player sees seqs 1..N, each once, in order; the binding names
     * gateway-2; the events are BOUND, RESUMED (never CLOSED). Returns ms from the death to Resumed.
     */
    static long aSessionOnADeadGatewayResumesWithExactlyTheMissedPushes(GatewayFixture cluster, int total)
            throws Exception {
        GatewayFixture.GatewayNode one = gateway(cluster, "gateway-1", GRACE);
        GatewayFixture.GatewayNode two = gateway(cluster, "gateway-2", GRACE);
        String token = "player:dee";
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login("player:dee").getLoginOk();
        assertThat(cluster.boundTo(token)).isEqualTo("gateway-1");

        Map<Long, String> accepted = new ConcurrentHashMap<>();
        AtomicInteger attempts = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pusher = Executors.newSingleThreadExecutor();
        Future<?> pushing = pusher.submit(() -> {
            while (!stop.get() && accepted.size() < total) {
                String payload = "p" + attempts.incrementAndGet();
                try {
                    long seq = cluster.pusher().push(token, payload.getBytes(StandardCharsets.UTF_8))
                            .get(10, TimeUnit.SECONDS);
                    accepted.put(seq, payload);
                } catch (Exception e) {
                    // UNAVAILABLE / NOT_FOUND while the session has no live gateway: this payload is not
                    // accepted (it may still have been logged, if the gateway died after the append).
                    refused.incrementAndGet();
                    Thread.sleep(5); // pacing between attempts, not a wait for a condition
                }
            }
            return null;
        });
        try {
            Await.until(WAIT, "20 pushes seen on gateway-1", () -> first.pushes().size() >= 20);
            // The player's connection drops: the session detaches on gateway-1, pushes go on being logged.
            first.close();
            Await.until(WAIT, () -> "the session to detach", () -> one.gateway().sessionCount() == 0);
            int acceptedAtDrop = accepted.size();
            Await.until(WAIT, () -> "10 more pushes accepted for the detached session",
                    () -> accepted.size() >= acceptedAtDrop + 10);
            long diedAt = System.nanoTime();
            cluster.crash(one);
            // Say the last 3 pushes written to it were lost in flight: the player saw up to seen.
            List<Push> written = first.pushes();
            long seen = Math.max(0, written.getLast().getPushSeq() - 3);
            List<Push> before = written.stream().filter(push -> push.getPushSeq() <= seen).toList();
            TestClient second = TestClient.tcp(two.tcp());
            ServerFrame resumed = second.resume(login.getResumeToken(), seen);
            long resumeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - diedAt);
            assertThat(resumed.hasResumed()).as("%s", resumed).isTrue();
            assertThat(resumed.getResumed().getSessionId()).isEqualTo(login.getSessionId());
            assertThat(resumed.getResumed().getReplayed()).as("replayed: the 3 lost in flight and the >= 10 logged"
                    + " while detached").isGreaterThanOrEqualTo(13);
            Await.until(WAIT, () -> "all " + total + " pushes accepted (refused " + refused + ")",
                    () -> accepted.size() >= total);
            long last = accepted.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
            Await.until(WAIT, () -> "the player to see push " + last + "; saw " + second.pushes().size(),
                    () -> !second.pushes().isEmpty() && second.pushes().getLast().getPushSeq() >= last);
            List<Push> all = new ArrayList<>(before);
            all.addAll(second.pushes());
            assertThat(all).extracting(Push::getPushSeq).as("seqs seen across the death")
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, all.size()).boxed().toList());
            Set<String> payloads = new HashSet<>();
            for (Push push : all) {
                assertThat(payloads.add(TestClient.utf8(push.getPayload()))).as("payload of push %d seen once",
                        push.getPushSeq()).isTrue();
            }
            accepted.forEach((seq, payload) -> assertThat(TestClient.utf8(all.get((int) (seq - 1)).getPayload()))
                    .as("accepted push %d", seq).isEqualTo(payload));
            assertThat(cluster.boundTo(token)).isEqualTo("gateway-2");
            assertThat(cluster.eventsOf(token)).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
            System.out.printf("gateway death: %d pushes accepted, %d attempts refused, %d seen before the death,"
                    + " %d replayed, resumed %d ms after the death%n", accepted.size(), refused.get(), seen,
                    resumed.getResumed().getReplayed(), resumeMillis);
            second.close();
            return resumeMillis;
        } finally {
            stop.set(true);
            pushing.get(30, TimeUnit.SECONDS);
            pusher.shutdownNow();
        }
    }

    /**
     * {@code rounds} times: a player logs in on a gateway that then dies; two clients resume the
     * session at once on two other gateways. Exactly one gets Resumed, the other an Error
     * (UNAUTHENTICATED or NOT_FOUND) and a close; the binding names the winner's gateway.
     */
    static void twoResumesRacedAfterTheBinderDiedHaveExactlyOneWinner(GatewayFixture cluster, int rounds)
            throws Exception {
        GatewayFixture.GatewayNode left = gateway(cluster, "gateway-left", GRACE);
        GatewayFixture.GatewayNode right = gateway(cluster, "gateway-right", GRACE);
        ExecutorService racers = Executors.newFixedThreadPool(2);
        try {
            int leftWins = 0;
            for (int round = 0; round < rounds; round++) {
                GatewayFixture.GatewayNode doomed = gateway(cluster, "gateway-doomed-" + round, GRACE);
                String token = "player:race-" + round;
                TestClient owner = TestClient.tcp(doomed.tcp());
                LoginOk login = owner.login(token).getLoginOk();
                assertThat(pushUntilTaken(cluster, token, "before")).isEqualTo(1L);
                owner.await(ServerFrame::hasPush, "the push");
                cluster.crash(doomed);
                owner.close();
                try (TestClient a = TestClient.tcp(left.tcp()); TestClient b = TestClient.tcp(right.tcp())) {
                    CountDownLatch go = new CountDownLatch(1);
                    Future<ServerFrame> fa = racers.submit(() -> {
                        go.await();
                        return a.resume(login.getResumeToken(), 0);
                    });
                    Future<ServerFrame> fb = racers.submit(() -> {
                        go.await();
                        return b.resume(login.getResumeToken(), 0);
                    });
                    go.countDown();
                    ServerFrame ra = fa.get(30, TimeUnit.SECONDS);
                    ServerFrame rb = fb.get(30, TimeUnit.SECONDS);
                    assertThat(List.of(ra, rb)).as("round %d: %s / %s", round, ra, rb)
                            .filteredOn(ServerFrame::hasResumed).hasSize(1);
                    ServerFrame lost = ra.hasResumed() ? rb : ra;
                    assertThat(lost.hasError()).as("%s", lost).isTrue();
                    assertThat(lost.getError().getCode()).isIn(Code.UNAUTHENTICATED.value(), Code.NOT_FOUND.value());
                    TestClient winner = ra.hasResumed() ? a : b;
                    String winnerGateway = ra.hasResumed() ? "gateway-left" : "gateway-right";
                    leftWins += ra.hasResumed() ? 1 : 0;
                    (ra.hasResumed() ? b : a).awaitClosed();
                    // The winner has the one push it missed, and the binding.
                    winner.await(ServerFrame::hasPush, "the replayed push");
                    assertThat(winner.pushes()).extracting(Push::getPushSeq).containsExactly(1L);
                    Await.until(WAIT, () -> "the link to name " + winnerGateway + ", is " + cluster.boundTo(token),
                            () -> winnerGateway.equals(cluster.boundTo(token)));
                    assertThat(pushUntilTaken(cluster, token, "after")).isEqualTo(2L);
                    winner.await(frame -> frame.hasPush() && frame.getPush().getPushSeq() == 2, "push 2");
                    assertThat(cluster.eventsOf(token)).extracting(SessionEvent::type)
                            .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
                }
            }
            System.out.printf("resumes raced after the binder died: %d rounds, left won %d%n", rounds, leftWins);
        } finally {
            racers.shutdownNow();
        }
    }

    /**
     * The reconnect storm: {@code sessions} players on gateway-1, two pushes each (seen); gateway-1
     * dies; every player reconnects to gateway-2 and resumes (16 clients at a time, each connecting
     * when it resumes) saying it saw only push 1.
     * All resume, each gets exactly push 2 replayed, then push 3 live; no CLOSED fires, one RESUMED
     * each. Prints the resume times (p50/p99/max) and the whole storm's duration.
     */
    static void aReconnectStormAfterAGatewayDeathResumesEverySession(GatewayFixture cluster, int sessions)
            throws Exception {
        GatewayFixture.GatewayNode one = gateway(cluster, "gateway-1", GRACE);
        GatewayFixture.GatewayNode two = gateway(cluster, "gateway-2", GRACE);
        List<TestClient> before = new ArrayList<>();
        List<String> resumeTokens = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<TestClient> after = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            for (int i = 0; i < sessions; i++) {
                TestClient client = TestClient.tcp(one.tcp());
                before.add(client);
                ServerFrame login = client.login("player:storm-" + i);
                assertThat(login.hasLoginOk()).as("%s", login).isTrue();
                resumeTokens.add(login.getLoginOk().getResumeToken());
            }
            // The pusher sends 256 at a time: its first push to a player is a cold sticky call, and a
            // burst of thousands of those at once is the link cache's to queue (not what this tests).
            for (String payload : List.of("a", "b")) {
                for (int from = 0; from < sessions; from += 256) {
                    List<java.util.concurrent.CompletableFuture<Long>> pushes = new ArrayList<>();
                    for (int i = from; i < Math.min(sessions, from + 256); i++) {
                        pushes.add(cluster.pusher().push("player:storm-" + i, payload.getBytes(StandardCharsets.UTF_8)));
                    }
                    for (var push : pushes) {
                        push.get(30, TimeUnit.SECONDS);
                    }
                }
            }
            Await.until(WAIT, "every player to see 2 pushes",
                    () -> before.stream().allMatch(client -> client.pushes().size() == 2));
            long diedAt = System.nanoTime();
            cluster.crash(one);
            List<Future<long[]>> resumed = new ArrayList<>();
            TestClient[] resumers = new TestClient[sessions];
            for (int i = 0; i < sessions; i++) {
                int player = i;
                String resumeToken = resumeTokens.get(i);
                resumed.add(pool.submit(() -> {
                    // Each client connects when it resumes, as a real one does: the login timeout runs from the connect.
                    long connecting = System.nanoTime();
                    TestClient client = TestClient.tcp(two.tcp());
                    resumers[player] = client;
                    after.add(client);
                    ServerFrame answer = client.resume(resumeToken, 1);
                    assertThat(answer.hasResumed()).as("%s", answer).isTrue();
                    long now = System.nanoTime();
                    return new long[] {TimeUnit.NANOSECONDS.toMillis(now - diedAt),
                        TimeUnit.NANOSECONDS.toMillis(now - connecting)};
                }));
            }
            List<Long> millis = new ArrayList<>();
            List<Long> own = new ArrayList<>();
            for (Future<long[]> one1 : resumed) {
                long[] times = one1.get(60, TimeUnit.SECONDS);
                millis.add(times[0]);
                own.add(times[1]);
            }
            long stormMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - diedAt);
            List<TestClient> resumedClients = List.of(resumers);
            for (int i = 0; i < sessions; i++) {
                assertThat(pushUntilTaken(cluster, "player:storm-" + i, "c")).isEqualTo(3L);
            }
            Await.until(WAIT, "every resumed player to see pushes 2 and 3",
                    () -> resumedClients.stream().allMatch(client -> client.pushes().size() >= 2));
            for (int i = 0; i < sessions; i++) {
                assertThat(resumedClients.get(i).pushes()).extracting(push -> push.getPushSeq() + ":"
                        + TestClient.utf8(push.getPayload())).as("player %d", i).containsExactly("2:b", "3:c");
            }
            assertThat(cluster.events).filteredOn(event -> event.type() == SessionEvent.Type.CLOSED).isEmpty();
            assertThat(cluster.events).filteredOn(event -> event.type() == SessionEvent.Type.RESUMED)
                    .hasSize(sessions);
            millis.sort(null);
            own.sort(null);
            int p99 = Math.min(sessions - 1, sessions * 99 / 100);
            System.out.printf("reconnect storm: %d sessions resumed on the survivor (16 clients at a time); ms from"
                    + " the death to Resumed: p50 %d, p99 %d, max %d; ms from a client's connect to its Resumed: p50 %d,"
                    + " p99 %d, max %d; storm %d ms%n", sessions, millis.get(sessions / 2), millis.get(p99),
                    millis.getLast(), own.get(sessions / 2), own.get(p99), own.getLast(), stormMillis);
        } finally {
            pool.shutdownNow();
            before.forEach(TestClient::close);
            synchronized (after) {
                after.forEach(TestClient::close);
            }
        }
    }

    /**
     * Two players on gateway-1, which dies; gateway-2 and gateway-3 survive (both sweep). One
     * player resumes on gateway-2, the other never comes back. When the grace ends: exactly one
     * CLOSED, for the one not resumed, naming gateway-1 as its gateway; none for the resumed one
     * (events BOUND, RESUMED); the link of the closed one is gone, its resume is refused NOT_FOUND,
     * and a fresh login works from push 1.
     */
    static void aDeadGatewaysSessionNobodyResumesClosesOnceWhenTheGraceEnds(GatewayFixture cluster) {
        Duration grace = Duration.ofMillis(400);
        GatewayFixture.GatewayNode one = gateway(cluster, "gateway-1", grace);
        GatewayFixture.GatewayNode two = gateway(cluster, "gateway-2", grace);
        GatewayFixture.GatewayNode three = gateway(cluster, "gateway-3", grace);
        TestClient gone = TestClient.tcp(one.tcp());
        TestClient back = TestClient.tcp(one.tcp());
        LoginOk goneLogin = gone.login("player:gone").getLoginOk();
        LoginOk backLogin = back.login("player:back").getLoginOk();
        assertThat(pushUntilTaken(cluster, "player:gone", "x")).isEqualTo(1L);
        assertThat(pushUntilTaken(cluster, "player:back", "y")).isEqualTo(1L);
        long diedAt = System.nanoTime();
        cluster.crash(one);
        gone.close();
        back.close();
        try (TestClient resumed = TestClient.tcp(two.tcp())) {
            assertThat(resumed.resume(backLogin.getResumeToken(), 1).hasResumed()).isTrue();
            Await.until(WAIT, () -> "one CLOSED for player:gone; events " + cluster.events,
                    () -> cluster.eventsOf("player:gone").stream().anyMatch(e -> e.type() == SessionEvent.Type.CLOSED));
            long closedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - diedAt);
            Await.until(WAIT, () -> "the link of player:gone to be removed, is " + cluster.boundTo("player:gone"),
                    () -> cluster.boundTo("player:gone") == null);
            SessionEvent closed = cluster.eventsOf("player:gone").getLast();
            assertThat(closed.gatewayNode()).isEqualTo("gateway-1");
            assertThat(closed.sessionId()).isEqualTo(goneLogin.getSessionId());
            assertThat(closed.reason()).contains("gateway-1 died");
            assertThat(closedAfter).as("ms from the death to CLOSED").isGreaterThanOrEqualTo(grace.toMillis());
            try (TestClient late = TestClient.tcp(three.tcp())) {
                ServerFrame answer = late.resume(goneLogin.getResumeToken(), 1);
                assertThat(answer.hasError()).as("%s", answer).isTrue();
                assertThat(answer.getError().getCode()).isEqualTo(Code.NOT_FOUND.value());
            }
            try (TestClient again = TestClient.tcp(three.tcp())) {
                assertThat(again.login("player:gone").hasLoginOk()).isTrue();
                assertThat(pushUntilTaken(cluster, "player:gone", "z")).isEqualTo(1L);
            }
            assertThat(pushUntilTaken(cluster, "player:back", "w")).isEqualTo(2L);
            resumed.await(frame -> frame.hasPush() && frame.getPush().getPushSeq() == 2, "push 2 after the sweep");
            // Both survivors swept (each at the same delay after seeing the death, long before now): one
            // CLOSED in all, none for the resumed player.
            assertThat(cluster.eventsOf("player:gone")).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED, SessionEvent.Type.BOUND);
            assertThat(cluster.eventsOf("player:back")).extracting(SessionEvent::type)
                    .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.RESUMED);
            System.out.printf("a dead gateway's unresumed session: CLOSED %d ms after the death (grace %d ms)%n",
                    closedAfter, grace.toMillis());
        }
    }

    /** One push, asked again while the session has no live gateway (UNAVAILABLE or NOT_FOUND). */
    static long pushUntilTaken(GatewayFixture cluster, String token, String payload) {
        long[] seq = new long[1];
        Await.until(WAIT, "a push to " + token + " to be taken", () -> {
            try {
                seq[0] = cluster.pusher().push(token, payload.getBytes(StandardCharsets.UTF_8)).join();
                return true;
            } catch (RuntimeException e) {
                Code code = BraidException.from(e).code();
                if (code == Code.UNAVAILABLE || code == Code.NOT_FOUND) {
                    return false;
                }
                throw e;
            }
        });
        return seq[0];
    }
}
