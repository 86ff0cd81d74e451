package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The owner-side fence ({@link RpcServer.Builder#tokenGate}) covers streams, not only the calls
 * that open them: once the gate closes, a token's stream hands its handler no further message and
 * ends UNAVAILABLE on its own, and a token call queued before the gate closed never runs. Streams
 * and calls without a token are not fenced.
 */
class StreamFenceTest {
    private final TestCluster cluster = new TestCluster();
    private final AtomicBoolean gate = new AtomicBoolean(true);
    /** Every message a stream handler was handed, in order. */
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Code> handlerEnded = new CompletableFuture<>();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    /** Echoes each message back, after noting it in {@link #handled}; notes how it ended. */
    private void echo(RpcServer server) {
        server.handleStream("play", StringValue.parser(), (ctx, in, out) -> {
            try {
                StringValue next;
                while ((next = in.read()) != null) {
                    handled.add(next.getValue());
                    out.write(next);
                }
                handlerEnded.complete(Code.OK);
            } catch (BraidException e) {
                handlerEnded.complete(e.code());
                throw e;
            }
        });
    }

    private ClientStream<StringValue, StringValue> open(RpcClient client, String token) {
        return client.stream(TestCluster.SERVICE, "play", token, StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(30)));
    }

    @Test
    void aTokenStreamEndsUnavailableSoonAfterTheGateClosesWithoutWaitingForAMessage() throws Exception {
        cluster.server(b -> b.tokenGate(gate::get), this::echo);
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream = open(client, "player-1");
        stream.send(StringValue.of("m1"));
        assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo("m1");
        CompletableFuture<StringValue> pending = stream.receive();

        long closedAt = System.nanoTime();
        gate.set(false);

        // Nothing is sent: the server's own check of its open token streams ends this one.
        assertThat(codeOf(stream.done())).isEqualTo(Code.UNAVAILABLE);
        Duration endedAfter = Duration.ofNanos(System.nanoTime() - closedAt);
        System.out.printf("token stream ended %d ms after the gate closed (check every %d ms)%n",
                endedAfter.toMillis(), RpcServer.Builder.DEFAULT_FENCE_CHECK_INTERVAL.toMillis());
        assertThat(endedAfter).isLessThan(Duration.ofSeconds(2));
        assertThat(codeOf(pending)).isEqualTo(Code.UNAVAILABLE);
        assertThat(handlerEnded.get(5, TimeUnit.SECONDS)).isEqualTo(Code.UNAVAILABLE);
        assertThat(codeOf(stream.send(StringValue.of("m2")))).isEqualTo(Code.UNAVAILABLE);
        assertThat(handled).containsExactly("m1");
    }

    @Test
    void aMessageArrivingWhileTheGateIsClosedIsNotHandedToTheHandler() throws Exception {
        // A check period far beyond the test: only the per-message fence can act.
        cluster.server(b -> b.tokenGate(gate::get).fenceCheckInterval(Duration.ofSeconds(10)), this::echo);
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream = open(client, "player-1");
        stream.send(StringValue.of("m1"));
        assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo("m1");

        gate.set(false);
        stream.send(StringValue.of("m2"));

        assertThat(codeOf(stream.done())).isEqualTo(Code.UNAVAILABLE);
        assertThat(handlerEnded.get(5, TimeUnit.SECONDS)).isEqualTo(Code.UNAVAILABLE);
        assertThat(handled).containsExactly("m1");
    }

    @Test
    void messagesBufferedBeforeTheGateClosedAreNotHandedOutAfter() throws Exception {
        CountDownLatch startReading = new CountDownLatch(1);
        cluster.server(b -> b.tokenGate(gate::get).fenceCheckInterval(Duration.ofSeconds(10)), s -> {
            s.handleAsync("ping", StringValue.parser(), (ctx, req) -> CompletableFuture.completedFuture(req));
            s.handleStream("play", StringValue.parser(), (ctx, in, out) -> {
                try {
                    startReading.await(10, TimeUnit.SECONDS);
                    StringValue next;
                    while ((next = in.read()) != null) {
                        handled.add(next.getValue());
                    }
                    handlerEnded.complete(Code.OK);
                } catch (BraidException e) {
                    handlerEnded.complete(e.code());
                    throw e;
                }
            });
        });
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream = open(client, "player-1");
        for (String m : List.of("m1", "m2", "m3")) {
            stream.send(StringValue.of(m)).get(5, TimeUnit.SECONDS);
        }
        // A call answered on the same connection after the three were sent: the server has read them,
        // and they wait in the stream's inbox while the handler is held.
        client.invoke(TestCluster.SERVICE, "ping", "", StringValue.of(""), StringValue.parser()).get(5, TimeUnit.SECONDS);

        gate.set(false);
        startReading.countDown();

        assertThat(handlerEnded.get(5, TimeUnit.SECONDS)).isEqualTo(Code.UNAVAILABLE);
        assertThat(codeOf(stream.done())).isEqualTo(Code.UNAVAILABLE);
        assertThat(handled).isEmpty();
    }

    @Test
    void aStreamWithoutATokenIsNotFenced() throws Exception {
        cluster.server(b -> b.tokenGate(gate::get).fenceCheckInterval(Duration.ofMillis(10)), this::echo);
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream = open(client, "");
        stream.send(StringValue.of("m1"));
        assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo("m1");

        gate.set(false);
        // Many check periods pass with the gate closed.
        assertThat(Await.poll(Duration.ofMillis(300), () -> stream.done().isDone())).isFalse();
        stream.send(StringValue.of("m2"));
        assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo("m2");
        stream.halfClose();

        assertThat(stream.receive().get(5, TimeUnit.SECONDS)).isNull();
        stream.done().get(5, TimeUnit.SECONDS);
        assertThat(handlerEnded.get(5, TimeUnit.SECONDS)).isEqualTo(Code.OK);
        assertThat(handled).containsExactly("m1", "m2");
    }

    @Test
    void aTokenCallQueuedBeforeTheGateClosedIsRefusedAndNeverRuns() throws Exception {
        LinkedBlockingQueue<Runnable> queued = new LinkedBlockingQueue<>();
        AtomicInteger ran = new AtomicInteger();
        cluster.server(b -> b.tokenGate(gate::get).blockingExecutor(queued::add),
                s -> s.handle("who", StringValue.parser(), (ctx, req) -> {
                    ran.incrementAndGet();
                    return StringValue.of("served");
                }));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> tokenCall = client.invoke(TestCluster.SERVICE, "who", "player-1",
                StringValue.of(""), StringValue.parser());
        CompletableFuture<StringValue> statelessCall = client.invoke(TestCluster.SERVICE, "who", "",
                StringValue.of(""), StringValue.parser());
        // Both passed the gate at dispatch and wait for a thread.
        Await.until(Duration.ofSeconds(5), "both calls are queued", () -> queued.size() == 2);

        gate.set(false);
        for (Runnable call; (call = queued.poll()) != null; ) {
            call.run();
        }

        assertThat(codeOf(tokenCall)).isEqualTo(Code.UNAVAILABLE);
        assertThat(statelessCall.get(5, TimeUnit.SECONDS).getValue()).isEqualTo("served");
        assertThat(ran).hasValue(1);
    }
}
