package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static io.braid.rpc.ErrorPathTest.messageOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.StaticDiscover;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A lane per token ({@link RpcServer#handleInLane}, {@link RpcServer#handleAsyncInLane}): calls of
 * one token run one at a time in arrival order, different tokens in parallel; a full lane refuses
 * at once; a call that waits past its deadline, is cancelled or meets a shutdown never runs; a
 * call back into a lane the call chain holds is refused at once; idle lanes go away. Real servers
 * and clients on loopback.
 */
class LaneTest {
    private static final Duration AWAIT = Duration.ofSeconds(10);

    private final TestCluster cluster = new TestCluster();
    /** Handlers running now, per token. */
    private final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
    /** Runs that found another of their token's runs in progress. */
    private final AtomicInteger overlaps = new AtomicInteger();
    /** The requests handled, per token, in the order their handlers started. */
    private final Map<String, List<String>> handled = new ConcurrentHashMap<>();
    private final Executor laterThread = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private void enter(String token, String request) {
        if (running.computeIfAbsent(token, t -> new AtomicInteger()).incrementAndGet() != 1) {
            overlaps.incrementAndGet();
        }
        handled.computeIfAbsent(token, t -> new CopyOnWriteArrayList<>()).add(request);
    }

    private void exit(String token) {
        running.get(token).decrementAndGet();
    }

    /** Some work between enter and exit, so that a second run of the token would overlap. */
    private static void work() {
        for (int i = 0; i < 50; i++) {
            Thread.yield();
        }
    }

    private List<String> handled(String token) {
        return handled.getOrDefault(token, List.of());
    }

    private static CompletableFuture<StringValue> call(RpcClient client, String method, String token, String request) {
        return client.invoke(TestCluster.SERVICE, method, token, StringValue.of(request), StringValue.parser());
    }

    private static CompletableFuture<StringValue> call(RpcClient client, String method, String token, String request,
                                                       Duration timeout) {
        return client.invoke(TestCluster.SERVICE, method, token, StringValue.of(request), StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(timeout));
    }

    /** Both handler kinds in a lane, each noting its run: "work" (blocking) and "workAsync" (ends on another thread). */
    private void recordingHandlers(RpcServer server) {
        server.handleInLane("work", StringValue.parser(), (ctx, req) -> {
            enter(ctx.token(), req.getValue());
            work();
            exit(ctx.token());
            return req;
        });
        server.handleAsyncInLane("workAsync", StringValue.parser(), (ctx, req) -> {
            enter(ctx.token(), req.getValue());
            // The turn lasts until the stage completes, here on another thread, after more work.
            return CompletableFuture.supplyAsync(() -> {
                work();
                exit(ctx.token());
                return req;
            }, laterThread);
        });
    }

    @Test
    void callsOfOneTokenRunOneAtATimeInArrivalOrderUnderTwoClients() throws Exception {
        RpcServer server = cluster.server(this::recordingHandlers);
        RpcClient gatewayA = cluster.client();
        RpcClient gatewayB = cluster.client();
        List<String> tokens = List.of("work-p1", "work-p2", "workAsync-p1", "workAsync-p2");
        List<CompletableFuture<StringValue>> calls = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (RpcClient gateway : List.of(gatewayA, gatewayB)) {
            String name = gateway == gatewayA ? "A" : "B";
            callers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < 100; i++) {
                    for (String token : tokens) {
                        String method = token.substring(0, token.indexOf('-'));
                        calls.add(call(gateway, method, token, name + i));
                    }
                }
            }));
        }
        go.countDown();
        for (Thread caller : callers) {
            caller.join();
        }
        for (CompletableFuture<StringValue> c : calls) {
            c.get(AWAIT.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(overlaps.get()).as("runs of one token that overlapped").isZero();
        for (String token : tokens) {
            assertThat(handled(token)).hasSize(200);
            for (String gateway : List.of("A", "B")) {
                List<Integer> order = handled(token).stream().filter(r -> r.startsWith(gateway))
                        .map(r -> Integer.parseInt(r.substring(1))).toList();
                assertThat(order).as(token + "'s calls from gateway " + gateway + " in arrival order")
                        .isSorted().hasSize(100);
            }
        }
        Await.until(AWAIT, "lanes removed", () -> server.laneCount() == 0);
    }

    /** "meet": a blocking handler in a lane that waits until {@code parties} runs are inside at once. */
    private static void meeting(RpcServer server, CountDownLatch inside) {
        server.handleInLane("meet", StringValue.parser(), (ctx, req) -> {
            inside.countDown();
            boolean met = inside.await(5, TimeUnit.SECONDS);
            return StringValue.of(met ? "met" : "alone");
        });
    }

    @Test
    void differentTokensRunInParallel() throws Exception {
        CountDownLatch inside = new CountDownLatch(2);
        cluster.server(s -> meeting(s, inside));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> first = call(client, "meet", "p1", "");
        CompletableFuture<StringValue> second = call(client, "meet", "p2", "");
        assertThat(first.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("met");
        assertThat(second.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("met");
    }

    @Test
    void callsWithoutATokenBypassTheLanes() throws Exception {
        CountDownLatch inside = new CountDownLatch(2);
        RpcServer server = cluster.server(s -> meeting(s, inside));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> first = call(client, "meet", "", "");
        CompletableFuture<StringValue> second = call(client, "meet", "", "");
        Await.until(AWAIT, "both stateless calls inside", () -> inside.getCount() == 0);
        assertThat(server.laneCount()).isZero();
        assertThat(first.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("met");
        assertThat(second.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("met");
    }

    /** "hold": a blocking lane handler that notes its request and waits for {@code release}. */
    private void holding(RpcServer server, CountDownLatch release) {
        server.handleInLane("hold", StringValue.parser(), (ctx, req) -> {
            enter(ctx.token(), req.getValue());
            try {
                release.await(10, TimeUnit.SECONDS);
            } finally {
                exit(ctx.token());
            }
            return req;
        });
        server.handleInLane("work", StringValue.parser(), (ctx, req) -> {
            enter(ctx.token(), req.getValue());
            exit(ctx.token());
            return req;
        });
    }

    @Test
    void aFullLaneRefusesAtOnceWhileAnotherTokenIsServed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        cluster.server(b -> b.maxLaneDepth(2), s -> holding(s, release));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> holder = call(client, "hold", "flood", "1");
        Await.until(AWAIT, "the first call runs", () -> handled("flood").size() == 1);
        CompletableFuture<StringValue> second = call(client, "work", "flood", "2");
        CompletableFuture<StringValue> third = call(client, "work", "flood", "3");
        CompletableFuture<StringValue> fourth = call(client, "work", "flood", "4");

        assertThat(codeOf(fourth)).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(messageOf(fourth)).contains("flood").contains("maxLaneDepth");
        assertThat(holder).isNotDone();
        assertThat(call(client, "work", "calm", "c").get(10, TimeUnit.SECONDS).getValue()).isEqualTo("c");

        release.countDown();
        assertThat(List.of(holder.get(10, TimeUnit.SECONDS), second.get(10, TimeUnit.SECONDS),
                third.get(10, TimeUnit.SECONDS))).extracting(StringValue::getValue).containsExactly("1", "2", "3");
        assertThat(handled("flood")).containsExactly("1", "2", "3");
    }

    @Test
    void aCallWhoseDeadlinePassesWhileItWaitsFailsWithoutRunning() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RpcServer server = cluster.server(s -> holding(s, release));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> holder = call(client, "hold", "p1", "1");
        Await.until(AWAIT, "the first call runs", () -> handled("p1").size() == 1);
        CompletableFuture<StringValue> late = call(client, "work", "p1", "late", Duration.ofMillis(200));

        assertThat(codeOf(late)).isEqualTo(Code.DEADLINE_EXCEEDED);
        // The server's own timer (its deadline began when the request arrived) takes it out of the lane.
        Await.until(AWAIT, "the late call left the lane", () -> server.laneWaiting("p1") == 0);
        release.countDown();
        holder.get(10, TimeUnit.SECONDS);
        assertThat(call(client, "work", "p1", "next").get(10, TimeUnit.SECONDS).getValue()).isEqualTo("next");
        assertThat(handled("p1")).containsExactly("1", "next");
        Await.until(AWAIT, "the lane removed", () -> server.laneCount() == 0);
    }

    @Test
    void aCancelledWaitingCallLeavesTheLaneAndNeverRuns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RpcServer server = cluster.server(b -> b.maxLaneDepth(1), s -> holding(s, release));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> holder = call(client, "hold", "p1", "1");
        Await.until(AWAIT, "the first call runs", () -> handled("p1").size() == 1);
        CompletableFuture<StringValue> cancelled = call(client, "work", "p1", "cancelled");
        Await.until(AWAIT, "the second call waits in the lane", () -> server.laneWaiting("p1") == 1);
        cancelled.cancel(true);
        Await.until(AWAIT, "the cancelled call left the lane", () -> server.laneWaiting("p1") == 0);
        // The lane holds one waiting call at most: the cancelled one left it, so this one fits.
        CompletableFuture<StringValue> after = call(client, "work", "p1", "after");

        release.countDown();
        assertThat(holder.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("1");
        assertThat(after.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("after");
        assertThat(handled("p1")).containsExactly("1", "after");
    }

    @Test
    void callsWaitingInALaneFailUnavailableAtShutdownAndNeverRun() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RpcServer server = cluster.server(b -> b.shutdownGrace(Duration.ofSeconds(5)), s -> holding(s, release));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> holder = call(client, "hold", "p1", "1");
        Await.until(AWAIT, "the first call runs", () -> handled("p1").size() == 1);
        CompletableFuture<StringValue> waiting = call(client, "work", "p1", "waiting");
        Await.until(AWAIT, "the second call waits in the lane", () -> server.laneWaiting("p1") == 1);

        CompletableFuture<Void> shutdown = server.shutdown(Duration.ofSeconds(5));
        assertThat(codeOf(waiting)).isEqualTo(Code.UNAVAILABLE);
        assertThat(messageOf(waiting)).contains("never started");
        assertThat(holder).isNotDone();
        release.countDown();
        assertThat(holder.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("1");
        shutdown.get(10, TimeUnit.SECONDS);
        assertThat(handled("p1")).containsExactly("1");
    }

    @Test
    void aCallThatWaitedInItsLaneIsCheckedAgainstTheTokenGateBeforeItRuns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean admits = new java.util.concurrent.atomic.AtomicBoolean(true);
        RpcServer server = cluster.server(b -> b.tokenGate(admits::get), s -> {
            holding(s, release);
            // An async handler: outside a lane it would be checked only on arrival.
            s.handleAsyncInLane("note", StringValue.parser(), (ctx, req) -> {
                enter(ctx.token(), req.getValue());
                exit(ctx.token());
                return CompletableFuture.completedFuture(req);
            });
        });
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> holder = call(client, "hold", "p1", "1");
        Await.until(AWAIT, "the first call runs", () -> handled("p1").size() == 1);
        CompletableFuture<StringValue> waiting = call(client, "note", "p1", "waited");
        Await.until(AWAIT, "the second call waits in the lane", () -> server.laneWaiting("p1") == 1);

        admits.set(false);
        release.countDown();
        assertThat(holder.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("1"); // running: not interrupted
        assertThat(codeOf(waiting)).isEqualTo(Code.UNAVAILABLE);
        assertThat(handled("p1")).containsExactly("1");
    }

    @Test
    void aHandlerCallingBackIntoItsOwnLaneIsRefusedAtOnce() throws Exception {
        RpcClient[] inside = new RpcClient[1];
        cluster.server(s -> {
            s.handleInLane("outer", StringValue.parser(), (ctx, req) ->
                    StringValue.of(outcome(call(inside[0], "inner", ctx.token(), "x"))));
            s.handleInLane("inner", StringValue.parser(), (ctx, req) -> req);
        });
        inside[0] = cluster.client();
        RpcClient client = cluster.client();

        long start = System.nanoTime();
        String outcome = call(client, "outer", "p1", "", Duration.ofSeconds(20)).get(20, TimeUnit.SECONDS).getValue();
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(outcome).startsWith("FAILED_PRECONDITION").contains("inner").contains("p1");
        assertThat(tookMillis).as("refused at once, not at the deadline").isLessThan(5_000);
    }

    @Test
    void aCallBackIntoTheLaneThroughAnotherServiceIsRefusedAtOnceButTheSameTokenOnAnotherNodeIsServed()
            throws Exception {
        RpcClient[] clients = new RpcClient[1];
        RpcServer logic = cluster.server(s -> {
            // "outer" holds p1's lane here and asks the relay service to do something for p1.
            s.handleInLane("outer", StringValue.parser(), (ctx, req) -> StringValue.of(outcome(
                    clients[0].invoke("relay", req.getValue(), ctx.token(), StringValue.of("x"), StringValue.parser()))));
            s.handleInLane("inner", StringValue.parser(), (ctx, req) -> StringValue.of("served"));
        });
        RpcServer relay = cluster.track(RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2)).build());
        // "relay" (no lane) calls back into the logic node's lane of the same token.
        relay.handle("relay", StringValue.parser(), (ctx, req) -> StringValue.of(outcome(
                call(clients[0], "inner", ctx.token(), "x"))));
        // "ownLane": the relay node's own lane of the same token: another node, so no re-entry.
        relay.handleInLane("ownLane", StringValue.parser(), (ctx, req) -> StringValue.of("served on the relay"));
        relay.start();
        cluster.discover.register(Node.of("relay-1", "relay", "127.0.0.1", relay.port(), 100));
        clients[0] = cluster.client();
        RpcClient client = cluster.client();
        assertThat(logic.nodeId()).isNotEqualTo(relay.nodeId());

        long start = System.nanoTime();
        String refused = call(client, "outer", "p1", "relay", Duration.ofSeconds(20)).get(20, TimeUnit.SECONDS).getValue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
        assertThat(refused).startsWith("OK ").contains("FAILED_PRECONDITION").contains("inner").contains("p1");

        assertThat(call(client, "outer", "p1", "ownLane").get(10, TimeUnit.SECONDS).getValue())
                .isEqualTo("OK served on the relay");
    }

    /** "OK value" or "CODE message" of a call made inside a handler. */
    private static String outcome(CompletableFuture<StringValue> call) {
        try {
            return "OK " + call.get(30, TimeUnit.SECONDS).getValue();
        } catch (Exception e) {
            BraidException failure = BraidException.from(e);
            return failure.code() + " " + failure.getMessage();
        }
    }

    @Test
    void idleLanesAreRemoved() throws Exception {
        RpcServer server = cluster.server(this::recordingHandlers);
        RpcClient client = cluster.client();
        List<CompletableFuture<StringValue>> calls = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            calls.add(call(client, i % 2 == 0 ? "work" : "workAsync", "player-" + (i % 50), String.valueOf(i)));
        }
        for (CompletableFuture<StringValue> c : calls) {
            c.get(10, TimeUnit.SECONDS);
        }
        Await.until(AWAIT, () -> "no lane left (" + server.laneCount() + ")", () -> server.laneCount() == 0);
        assertThat(overlaps.get()).isZero();
    }

    /**
     * A caller that has its answer finds the call's turn already told to the lane listener (the
     * lane meters), whatever the handler kind and however it ended: a metric read right after a
     * call sees that call. The listener here is slow on purpose (20 ms), so an answer written
     * before the turn is told reaches the caller first.
     */
    @Test
    void aCallsTurnIsToldToTheListenerBeforeItsCallerHearsTheAnswer() throws Exception {
        AtomicInteger told = new AtomicInteger();
        io.braid.api.internal.LaneListener slow = new io.braid.api.internal.LaneListener() {
            @Override
            public void turnEnded(String token, long waitNanos, long runNanos, boolean call) {
                try {
                    Thread.sleep(20); // a slow listener, not a wait for a condition
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                told.incrementAndGet();
            }
        };
        cluster.server(settings -> settings.laneListener(slow), server -> {
            recordingHandlers(server);
            server.handleInLane("fail", StringValue.parser(), (ctx, req) -> {
                throw new BraidException(Code.FAILED_PRECONDITION, "no");
            });
            server.handleAsyncInLane("failAsync", StringValue.parser(), (ctx, req) ->
                    CompletableFuture.failedFuture(new BraidException(Code.FAILED_PRECONDITION, "no")));
            server.handleAsyncInLane("doneAsync", StringValue.parser(), (ctx, req) -> CompletableFuture.completedFuture(req));
        });
        RpcClient client = cluster.client();
        int expected = 0;
        for (String method : List.of("work", "workAsync", "doneAsync", "fail", "failAsync")) {
            CompletableFuture<StringValue> call = call(client, method, "player-1", method);
            call.handle((answer, failure) -> null).get(10, TimeUnit.SECONDS);
            expected++;
            assertThat(told.get()).as("turns told once %s answered", method).isEqualTo(expected);
        }
    }

    @Test
    void theLaneSettingsAreCheckedWhenSet() {
        assertThatThrownBy(() -> RpcServer.builder().maxLaneDepth(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxLaneDepth");
        assertThatThrownBy(() -> RpcServer.builder().maxLaneDepth(1_000_001))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxLaneDepth");
        assertThatThrownBy(() -> RpcServer.builder().nodeId(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nodeId");
        assertThat(RpcServer.builder().build().nodeId()).isNotEqualTo(RpcServer.builder().build().nodeId());
    }
}
