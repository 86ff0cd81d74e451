package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bidirectional streams: order, server push, flow control both ways, cancel, deadline, a dying peer. */
class StreamTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    @Test
    void messagesArriveInOrderBothWaysAndTheStreamEndsOk() throws Exception {
        cluster.server(s -> s.handleStream("double", Int32Value.parser(), (ctx, in, out) -> {
            Int32Value next;
            while ((next = in.read()) != null) {
                out.write(Int32Value.of(next.getValue() * 2));
            }
        }));
        RpcClient client = cluster.client();
        ClientStream<Int32Value, Int32Value> stream =
                client.stream(TestCluster.SERVICE, "double", "", Int32Value.parser(), CallOptions.DEFAULT);

        List<Integer> received = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            stream.send(Int32Value.of(i)).get(5, TimeUnit.SECONDS);
            received.add(stream.receive().get(5, TimeUnit.SECONDS).getValue());
        }
        stream.halfClose();

        assertThat(stream.receive().get(5, TimeUnit.SECONDS)).isNull();
        stream.done().get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 1_000; i++) {
            assertThat(received.get(i)).isEqualTo(i * 2);
        }
    }

    @Test
    void aLogicNodeStreamsWorldUpdatesToAGatewayForOnePlayer() throws Exception {
        AtomicReference<String> player = new AtomicReference<>();
        cluster.server(s -> s.handleStream("world.watch", StringValue.parser(), (ctx, in, out) -> {
            player.set(ctx.token());
            for (int tick = 0; tick < 500; tick++) {
                out.write(StringValue.of("tick " + tick + " for " + ctx.token()));
            }
        }));
        RpcClient gateway = cluster.client();
        ClientStream<StringValue, StringValue> updates =
                gateway.stream(TestCluster.SERVICE, "world.watch", "player-9", StringValue.parser(), CallOptions.DEFAULT);
        updates.halfClose(); // the player only listens

        List<String> seen = new ArrayList<>();
        StringValue next;
        while ((next = updates.receive().get(5, TimeUnit.SECONDS)) != null) {
            seen.add(next.getValue());
        }

        assertThat(player).hasValue("player-9");
        assertThat(seen).hasSize(500).startsWith("tick 0 for player-9").endsWith("tick 499 for player-9");
    }

    @Test
    void aSlowReceiverHoldsBackAFastServer() throws Exception {
        AtomicInteger written = new AtomicInteger();
        cluster.server(s -> s.handleStream("flood", StringValue.parser(), (ctx, in, out) -> {
            for (int i = 0; i < 10_000; i++) {
                out.write(StringValue.of("m" + i));
                written.incrementAndGet();
            }
        }));
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream =
                client.stream(TestCluster.SERVICE, "flood", "", StringValue.parser(), CallOptions.DEFAULT);
        stream.halfClose();

        Await.until(Duration.ofSeconds(5), "the first window is written", () -> written.get() >= 32);
        boolean overran = Await.poll(Duration.ofMillis(300), () -> written.get() > 32);

        assertThat(overran).as("the server wrote past the window while nobody read").isFalse();
        int received = 0;
        while (stream.receive().get(5, TimeUnit.SECONDS) != null) {
            received++;
        }
        assertThat(received).isEqualTo(10_000);
    }

    @Test
    void aFastSenderIsHeldBackByASlowServer() throws Exception {
        CountDownLatch startReading = new CountDownLatch(1);
        AtomicInteger read = new AtomicInteger();
        cluster.server(s -> s.handleStream("sink", StringValue.parser(), (ctx, in, out) -> {
            startReading.await(10, TimeUnit.SECONDS);
            while (in.read() != null) {
                read.incrementAndGet();
            }
        }));
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream =
                client.stream(TestCluster.SERVICE, "sink", "", StringValue.parser(), CallOptions.DEFAULT);

        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            sends.add(stream.send(StringValue.of("x" + i)));
        }
        Await.until(Duration.ofSeconds(5), "the first window is sent", () -> sends.get(31).isDone());
        boolean overran = Await.poll(Duration.ofMillis(300), () -> sends.get(32).isDone());
        startReading.countDown();
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        stream.halfClose();
        stream.done().get(10, TimeUnit.SECONDS);

        assertThat(overran).as("a send completed past the server's window before it read").isFalse();
        assertThat(read).hasValue(1_000);
    }

    @Test
    void cancellingFromTheCallerReachesTheHandler() throws Exception {
        CompletableFuture<Code> handlerSaw = new CompletableFuture<>();
        cluster.server(s -> s.handleStream("wait", StringValue.parser(), (ctx, in, out) -> {
            try {
                // Reads until the caller's end: only the cancel can end this stream. (A handler that
                // returned after its first read would end the stream OK on its own, racing the cancel.)
                while (in.read() != null) {
                    // keep waiting
                }
                handlerSaw.complete(Code.OK);
            } catch (BraidException e) {
                handlerSaw.complete(e.code());
            }
        }));
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream =
                client.stream(TestCluster.SERVICE, "wait", "", StringValue.parser(), CallOptions.DEFAULT);
        stream.send(StringValue.of("hello")).get(5, TimeUnit.SECONDS); // opened for sure
        // The handler waits on its next read; the caller waits on a receive.
        CompletableFuture<StringValue> pending = stream.receive();

        stream.cancel();

        assertThat(codeOf(pending)).isEqualTo(Code.CANCELLED);
        assertThat(codeOf(stream.done())).isEqualTo(Code.CANCELLED);
        assertThat(handlerSaw.get(5, TimeUnit.SECONDS)).isEqualTo(Code.CANCELLED);
    }

    @Test
    void aCancelAfterTheServerEndedTheStreamChangesNothing() throws Exception {
        // The other order of the race above, pinned: the handler returns after its first read, and
        // its OK end reaches the caller before the caller cancels.
        cluster.server(s -> s.handleStream("once", StringValue.parser(), (ctx, in, out) -> in.read()));
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream =
                client.stream(TestCluster.SERVICE, "once", "", StringValue.parser(), CallOptions.DEFAULT);
        stream.send(StringValue.of("hello")).get(5, TimeUnit.SECONDS);
        CompletableFuture<StringValue> pending = stream.receive();
        stream.done().get(5, TimeUnit.SECONDS);

        stream.cancel();

        assertThat(pending.get(5, TimeUnit.SECONDS)).as("the receive pending at the end: end of stream").isNull();
        assertThat(stream.done()).isCompleted();
        assertThat(stream.receive().get(5, TimeUnit.SECONDS)).isNull();
    }

    @Test
    void aHandlerThatFailsEndsTheStreamWithItsCode() {
        cluster.server(s -> s.handleStream("refuse", StringValue.parser(), (ctx, in, out) -> {
            out.write(StringValue.of("one"));
            throw new BraidException(Code.FAILED_PRECONDITION, "not in a match");
        }));
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream =
                client.stream(TestCluster.SERVICE, "refuse", "", StringValue.parser(), CallOptions.DEFAULT);

        assertThat(stream.receive().join().getValue()).isEqualTo("one");
        assertThat(codeOf(stream.receive())).isEqualTo(Code.FAILED_PRECONDITION);
        assertThat(codeOf(stream.done())).isEqualTo(Code.FAILED_PRECONDITION);
    }

    @Test
    void theDeadlineEndsTheStreamOnBothSides() throws Exception {
        CompletableFuture<Code> handlerSaw = new CompletableFuture<>();
        cluster.server(s -> s.handleStream("idle", StringValue.parser(), (ctx, in, out) -> {
            try {
                in.read();
            } catch (BraidException e) {
                handlerSaw.complete(e.code());
            }
        }));
        RpcClient client = cluster.client();
        long start = System.nanoTime();
        ClientStream<StringValue, StringValue> stream = client.stream(TestCluster.SERVICE, "idle", "", StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(Duration.ofMillis(300)));

        assertThat(codeOf(stream.receive())).isEqualTo(Code.DEADLINE_EXCEEDED);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(handlerSaw.get(5, TimeUnit.SECONDS)).isEqualTo(Code.DEADLINE_EXCEEDED);
    }

    /**
     * The race behind a flaky run of the test above, made certain: the server's deadline (capped by
     * maxDeadline) passes first, the handler catches the failed read and returns normally. The
     * caller must hear DEADLINE_EXCEEDED, not a clean end it would take for success.
     */
    @Test
    void aStreamWhoseDeadlinePassedOnTheServerEndsThatWayEvenIfTheHandlerReturnsNormally() throws Exception {
        CompletableFuture<Code> handlerSaw = new CompletableFuture<>();
        cluster.server(b -> b.maxDeadline(Duration.ofMillis(200)), s -> s.handleStream("idle", StringValue.parser(),
                (ctx, in, out) -> {
                    try {
                        in.read();
                    } catch (BraidException e) {
                        handlerSaw.complete(e.code()); // and return normally
                    }
                }));
        ClientStream<StringValue, StringValue> stream = cluster.client().stream(TestCluster.SERVICE, "idle", "",
                StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(30)));

        assertThat(handlerSaw.get(5, TimeUnit.SECONDS)).isEqualTo(Code.DEADLINE_EXCEEDED);
        assertThat(codeOf(stream.done())).isEqualTo(Code.DEADLINE_EXCEEDED);
    }

    @Test
    void aNodeThatDiesEndsTheStreamWithUnavailable() throws Exception {
        CountDownLatch streaming = new CountDownLatch(1);
        RpcServer server = cluster.server(b -> b.shutdownGrace(Duration.ZERO),
                s -> s.handleStream("forever", StringValue.parser(), (ctx, in, out) -> {
                    out.write(StringValue.of("first"));
                    streaming.countDown();
                    in.read();
                }));
        RpcClient client = cluster.client();
        ClientStream<StringValue, StringValue> stream =
                client.stream(TestCluster.SERVICE, "forever", "", StringValue.parser(), CallOptions.DEFAULT);
        assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo("first");
        assertThat(streaming.await(5, TimeUnit.SECONDS)).isTrue();

        long start = System.nanoTime();
        server.shutdown(Duration.ZERO);

        assertThat(codeOf(stream.receive())).isEqualTo(Code.UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void streamsAndCallsAreNotMixedUp() {
        cluster.server(s -> {
            s.handleStream("aStream", StringValue.parser(), (ctx, in, out) -> { });
            s.handle("aCall", StringValue.parser(), (ctx, req) -> req);
        });
        RpcClient client = cluster.client();

        assertThat(codeOf(client.invoke(TestCluster.SERVICE, "aStream", "", StringValue.of(""), StringValue.parser())))
                .isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(codeOf(client.stream(TestCluster.SERVICE, "aCall", "", StringValue.parser(), CallOptions.DEFAULT)
                .done())).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(codeOf(client.stream(TestCluster.SERVICE, "nothing", "", StringValue.parser(), CallOptions.DEFAULT)
                .done())).isEqualTo(Code.NOT_FOUND);
    }
}
