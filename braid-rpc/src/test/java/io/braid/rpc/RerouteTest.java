package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static io.braid.rpc.ErrorPathTest.messageOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.internal.NotServedHere;
import io.braid.api.internal.TokenGate;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A token call that its old owner refused as "not served here" (a {@link NotServedHere} from the
 * handler, or the token gate's refusal of a token given to another node) goes on to the new owner,
 * transparently and within its deadline: directly when the refusal names a node discovery lists,
 * else through the link cache after a short pause; at most three times more; a plain UNAVAILABLE
 * and the self-fencing refusal are never sent on. Two real servers ("node-1" the old owner,
 * "node-2" the new one) and a client on loopback, with links in a {@link MapLinkCache}.
 */
class RerouteTest {
    private static final String TOKEN = "player-7";
    private static final String OLD = "node-1";
    private static final String NEW = "node-2";

    private final TestCluster cluster = new TestCluster();
    private final MapLinkCache links = new MapLinkCache();
    private final AtomicInteger oldRuns = new AtomicInteger();
    private final AtomicInteger newRuns = new AtomicInteger();
    /** Calls the client's interceptor saw. */
    private final AtomicInteger intercepted = new AtomicInteger();
    /** The response metadata the client's interceptor saw when the last call ended. */
    private final java.util.concurrent.atomic.AtomicReference<java.util.Map<String, String>> answerMetadata =
            new java.util.concurrent.atomic.AtomicReference<>();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private RpcServer lastServer;

    /** The old owner, whose "work" handler runs {@code refuse} (counted). */
    private RpcServer oldOwner(java.util.function.UnaryOperator<RpcServer.Builder> settings, Runnable refuse) {
        RpcServer server = cluster.server(settings, s -> s.handle("work", StringValue.parser(), (ctx, req) -> {
            oldRuns.incrementAndGet();
            refuse.run();
            return StringValue.of("old:" + req.getValue());
        }));
        assertThat(cluster.nodeOf(server).id()).isEqualTo(OLD);
        return server;
    }

    private RpcServer oldOwner(Runnable refuse) {
        return oldOwner(java.util.function.UnaryOperator.identity(), refuse);
    }

    private void startNewOwner() {
        lastServer = cluster.server(s -> s.handle("work", StringValue.parser(), (ctx, req) -> {
            newRuns.incrementAndGet();
            return StringValue.of("new:" + req.getValue());
        }));
        assertThat(cluster.nodeOf(lastServer).id()).isEqualTo(NEW);
    }

    private RpcClient client() {
        return cluster.client(b -> b.linkCache(links).intercept((call, next) -> {
            intercepted.incrementAndGet();
            return next.proceed(call).whenComplete((answer, failure) -> answerMetadata.set(call.responseMetadata()));
        }));
    }

    private static CompletableFuture<StringValue> call(RpcClient client, Duration timeout) {
        return client.invoke(TestCluster.SERVICE, "work", TOKEN, StringValue.of("x"), StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(timeout));
    }

    @Test
    void aRefusalThatNamesTheNewOwnerSendsTheCallThereWithoutAskingTheLinkCache() throws Exception {
        oldOwner(() -> {
            throw new NotServedHere("player-7 moved", new Link(NEW, 2));
        });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);
        RpcClient client = client();

        StringValue answer = call(client, Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);

        assertThat(answer.getValue()).isEqualTo("new:x");
        assertThat(oldRuns.get()).as("runs on the old owner").isEqualTo(1);
        assertThat(newRuns.get()).as("runs on the new owner").isEqualTo(1);
        assertThat(links.reads()).as("link reads: the first routing only").isEqualTo(1);
        assertThat(intercepted.get()).as("calls the interceptor saw").isEqualTo(1);
        assertThat(answerMetadata.get()).as("metadata of the answer").doesNotContainKey(NotServedHere.METADATA_KEY);
    }

    @Test
    void aLaneHandlersRefusalIsSentOnToo() throws Exception {
        RpcServer old = cluster.server(s -> s.handleAsyncInLane("work", StringValue.parser(), (ctx, req) -> {
            oldRuns.incrementAndGet();
            return CompletableFuture.failedFuture(new NotServedHere("player-7 moved", new Link(NEW, 2)));
        }));
        assertThat(cluster.nodeOf(old).id()).isEqualTo(OLD);
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);

        assertThat(call(client(), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS).getValue()).isEqualTo("new:x");
        assertThat(oldRuns.get()).isEqualTo(1);
        assertThat(newRuns.get()).isEqualTo(1);
    }

    @Test
    void aRefusalWithoutAnOwnerRoutesAgainThroughTheLinkCacheAfterAPause() throws Exception {
        oldOwner(() -> {
            links.set(TestCluster.SERVICE, TOKEN, NEW); // the handoff moved the link before the call came
            throw new NotServedHere("player-7 moved", null);
        });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);
        RpcClient client = client();

        long start = System.nanoTime();
        StringValue answer = call(client, Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(answer.getValue()).isEqualTo("new:x");
        assertThat(oldRuns.get()).isEqualTo(1);
        assertThat(newRuns.get()).isEqualTo(1);
        assertThat(links.reads()).as("link reads: the first routing and the re-route").isEqualTo(2);
        assertThat(tookMillis).as("ms, with the 10 ms pause before asking the link cache again").isGreaterThanOrEqualTo(10);
        assertThat(intercepted.get()).isEqualTo(1);
    }

    @Test
    void aRefusalNamingANodeDiscoveryDoesNotListRoutesThroughTheLinkCache() throws Exception {
        oldOwner(() -> {
            links.set(TestCluster.SERVICE, TOKEN, NEW);
            throw new NotServedHere("player-7 moved", new Link("node-unknown", 9));
        });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);

        assertThat(call(client(), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS).getValue()).isEqualTo("new:x");
        assertThat(links.reads()).isEqualTo(2);
        assertThat(oldRuns.get()).isEqualTo(1);
        assertThat(newRuns.get()).isEqualTo(1);
    }

    @Test
    void aNodeThatAlwaysRefusesIsTriedFourTimesInAllThenTheCallerSeesTheRefusal() {
        oldOwner(() -> {
            throw new NotServedHere("player-7 is not served here", new Link(OLD, 1)); // names itself: not direct
        });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);

        long start = System.nanoTime();
        CompletableFuture<StringValue> call = call(client(), Duration.ofSeconds(5));
        assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(messageOf(call)).isEqualTo("player-7 is not served here");
        assertThat(oldRuns.get()).as("attempts on the refusing node").isEqualTo(4);
        assertThat(newRuns.get()).isZero();
        assertThat(links.reads()).as("the first routing and three re-routes").isEqualTo(4);
        assertThat(tookMillis).as("ms: pauses of 10 + 20 + 40, well before the 5 s deadline").isLessThan(2_000);
        assertThat(intercepted.get()).isEqualTo(1);
        assertThat(answerMetadata.get()).containsEntry(NotServedHere.METADATA_KEY, "1:" + OLD);
    }

    @Test
    void aRefusalThatArrivesAfterTheClientClosedIsNotSentOn() throws Exception {
        java.util.concurrent.CountDownLatch refuse = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        oldOwner(() -> {
            running.countDown();
            try {
                refuse.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            links.set(TestCluster.SERVICE, TOKEN, NEW); // a re-route would succeed
            throw new NotServedHere("player-7 moved", null);
        });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);
        RpcClient client = client();
        CompletableFuture<StringValue> call = call(client, Duration.ofSeconds(5));
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        Thread closer = Thread.ofPlatform().start(client::close); // closed at once; waits for the call
        io.braid.testkit.Await.until(Duration.ofSeconds(10), "the client's close waits for the call in flight",
                () -> closer.getState() == Thread.State.WAITING || closer.getState() == Thread.State.TIMED_WAITING);
        refuse.countDown();

        assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
        assertThat(messageOf(call)).isEqualTo("player-7 moved");
        closer.join(10_000);
        assertThat(oldRuns.get()).isEqualTo(1);
        assertThat(newRuns.get()).as("runs on the new owner").isZero();
        assertThat(links.reads()).as("link reads: the first routing only").isEqualTo(1);
    }

    @Test
    void reRoutingEndsByTheDeadline() {
        oldOwner(() -> {
            try {
                Thread.sleep(40); // four refused attempts and the pauses take 230 ms: past the deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new NotServedHere("player-7 is not served here", null);
        });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);
        RpcClient client = client();
        call(client, Duration.ofSeconds(5)).exceptionally(f -> null).join(); // connects; counts as runs
        oldRuns.set(0);

        long start = System.nanoTime();
        CompletableFuture<StringValue> call = call(client, Duration.ofMillis(100));
        Code code = codeOf(call);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(code).isIn(Code.DEADLINE_EXCEEDED, Code.UNAVAILABLE);
        assertThat(tookMillis).as("ms to end a call with a 100 ms deadline").isLessThan(100 + 100);
        assertThat(oldRuns.get()).as("attempts begun within the deadline").isBetween(1, 4);
        assertThat(newRuns.get()).isZero();
    }

    @Test
    void aPlainUnavailableFromATokenCallsHandlerIsNotRetried() {
        oldOwner(() -> {
            throw new BraidException(Code.UNAVAILABLE, "the world is busy");
        });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);

        CompletableFuture<StringValue> call = call(client(), Duration.ofSeconds(5));

        assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
        assertThat(messageOf(call)).isEqualTo("the world is busy");
        assertThat(oldRuns.get()).as("runs of the handler").isEqualTo(1);
        assertThat(newRuns.get()).isZero();
        assertThat(links.reads()).isEqualTo(1);
    }

    /** A gate that is open and refuses {@link #TOKEN}, saying it went to {@code movedTo}. */
    private static TokenGate refusing(AtomicBoolean open, Optional<Link> movedTo) {
        return new TokenGate() {
            @Override
            public boolean isOpen() {
                return open.get();
            }

            @Override
            public boolean admits(String token) {
                return open.get() && !token.equals(TOKEN);
            }

            @Override
            public Optional<Link> movedTo(String token) {
                return token.equals(TOKEN) ? movedTo : Optional.empty();
            }
        };
    }

    @Test
    void aTokenTheGateGaveToAnotherNodeLandsOnThatNode() throws Exception {
        AtomicBoolean open = new AtomicBoolean(true);
        oldOwner(b -> b.tokenGate(refusing(open, Optional.of(new Link(NEW, 3)))), () -> { });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);

        assertThat(call(client(), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS).getValue()).isEqualTo("new:x");
        assertThat(oldRuns.get()).as("the gate refused before the handler").isZero();
        assertThat(newRuns.get()).isEqualTo(1);
        assertThat(links.reads()).isEqualTo(1);
    }

    @Test
    void aTokenTheGateRefusesWithoutKnowingWhereItWentIsLookedUpAgain() throws Exception {
        AtomicBoolean open = new AtomicBoolean(true);
        oldOwner(b -> b.tokenGate(refusing(open, Optional.empty())), () -> { });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);
        RpcClient client = client();
        CompletableFuture<StringValue> call = call(client, Duration.ofSeconds(5));
        links.set(TestCluster.SERVICE, TOKEN, NEW); // the move reaches the link cache a little later

        assertThat(call.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("new:x");
        assertThat(oldRuns.get()).isZero();
        assertThat(newRuns.get()).isEqualTo(1);
    }

    @Test
    void aSelfFencingRefusalIsNotSentOn() {
        AtomicBoolean open = new AtomicBoolean(false);
        oldOwner(b -> b.tokenGate(refusing(open, Optional.of(new Link(NEW, 3)))), () -> { });
        startNewOwner();
        links.set(TestCluster.SERVICE, TOKEN, OLD);

        CompletableFuture<StringValue> call = call(client(), Duration.ofSeconds(5));

        assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
        assertThat(messageOf(call)).contains("self-fencing");
        assertThat(oldRuns.get()).isZero();
        assertThat(newRuns.get()).as("runs on the other node").isZero();
        assertThat(links.reads()).as("link reads: the first routing only").isEqualTo(1);
    }

    @Test
    void theMovedEntryRoundTrips() {
        assertThat(NotServedHere.encode(null)).isEmpty();
        assertThat(NotServedHere.encode(new Link("node-2", 42))).isEqualTo("42:node-2");
        assertThat(NotServedHere.decode("42:node-2")).contains(new Link("node-2", 42));
        assertThat(NotServedHere.decode("7:a:b")).contains(new Link("a:b", 7));
        for (String garbage : new String[] {null, "", ":", "42:", ":node", "x:node", "-1:node", "42: ", "node-2",
                "99999999999999999999:n"}) {
            assertThat(NotServedHere.decode(garbage)).as("decode(%s)", garbage).isEmpty();
        }
        NotServedHere refusal = new NotServedHere("moved", null);
        assertThat(refusal.code()).isEqualTo(Code.UNAVAILABLE);
        assertThat(refusal.owner()).isEmpty();
    }
}
