package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.Response;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every error path a caller can meet, and what the caller sees. */
class ErrorPathTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    static Code codeOf(CompletableFuture<?> call) {
        Throwable failure = catchThrowable(() -> call.get(10, TimeUnit.SECONDS));
        assertThat(failure).as("the call should fail").isNotNull();
        return BraidException.from(failure).code();
    }

    static String messageOf(CompletableFuture<?> call) {
        return BraidException.from(catchThrowable(() -> call.get(10, TimeUnit.SECONDS))).getMessage();
    }

    @Test
    void unknownMethodIsNotFound() {
        cluster.server(s -> s.handle("known", StringValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client();

        CompletableFuture<StringValue> call =
                client.invoke(TestCluster.SERVICE, "unknown", "", StringValue.of(""), StringValue.parser());

        assertThat(codeOf(call)).isEqualTo(Code.NOT_FOUND);
        assertThat(messageOf(call)).contains("unknown");
    }

    @Test
    void handlerExceptionIsInternalWithItsMessage() {
        cluster.server(s -> s.handle("boom", StringValue.parser(), (ctx, req) -> {
            throw new IllegalStateException("inventory is corrupt");
        }));
        RpcClient client = cluster.client();

        CompletableFuture<StringValue> call =
                client.invoke(TestCluster.SERVICE, "boom", "", StringValue.of(""), StringValue.parser());

        assertThat(codeOf(call)).isEqualTo(Code.INTERNAL);
        assertThat(messageOf(call)).isEqualTo("inventory is corrupt");
    }

    @Test
    void braidExceptionKeepsItsCodeFromBothHandlerKinds() {
        cluster.server(s -> {
            s.handle("deny", StringValue.parser(), (ctx, req) -> {
                throw new BraidException(Code.UNAUTHENTICATED, "who are you");
            });
            s.handleAsync("denyAsync", StringValue.parser(), (ctx, req) ->
                    CompletableFuture.failedFuture(new BraidException(Code.FAILED_PRECONDITION, "not logged in")));
        });
        RpcClient client = cluster.client();

        CompletableFuture<StringValue> deny =
                client.invoke(TestCluster.SERVICE, "deny", "", StringValue.of(""), StringValue.parser());
        CompletableFuture<StringValue> denyAsync =
                client.invoke(TestCluster.SERVICE, "denyAsync", "", StringValue.of(""), StringValue.parser());

        assertThat(codeOf(deny)).isEqualTo(Code.UNAUTHENTICATED);
        assertThat(messageOf(deny)).isEqualTo("who are you");
        assertThat(codeOf(denyAsync)).isEqualTo(Code.FAILED_PRECONDITION);
    }

    @Test
    void requestThatDoesNotParseIsInvalidArgument() {
        cluster.server(s -> s.handle("count", Int32Value.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client();

        // Field 1 of Int32Value is a varint; send it as a truncated length-delimited field instead.
        CompletableFuture<byte[]> call = client.invoke(TestCluster.SERVICE, "count", "", new byte[] {0x0a, 0x05, 0x01});

        assertThat(codeOf(call)).isEqualTo(Code.INVALID_ARGUMENT);
    }

    @Test
    void expiredDeadlineIsSeenOnBothSidesAndTheLateResultIsDropped() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> cancelledSeenByHandler = new CompletableFuture<>();
        cluster.server(s -> s.handle("slow", StringValue.parser(), (ctx, req) -> {
            entered.countDown();
            release.await(10, TimeUnit.SECONDS);
            // The server's deadline starts when the request arrives, a moment after the client's.
            cancelledSeenByHandler.complete(io.braid.testkit.Await.poll(Duration.ofSeconds(2), ctx::isCancelled));
            return StringValue.of("too late");
        }));
        RpcClient client = cluster.client();

        long start = System.nanoTime();
        CompletableFuture<StringValue> call = client.invoke(TestCluster.SERVICE, "slow", "", StringValue.of(""),
                StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(2)));
        assertThat(entered.await(5, TimeUnit.SECONDS)).as("handler started").isTrue();

        assertThat(codeOf(call)).isEqualTo(Code.DEADLINE_EXCEEDED);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(1900), Duration.ofSeconds(6));
        release.countDown();
        assertThat(cancelledSeenByHandler.get(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void serverAnswersDeadlineExceededItselfAndDoesNotStartExpiredWork() throws Exception {
        // One handler thread: the second call waits behind the first and expires before it can start.
        ExecutorService oneThread = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger started = new AtomicInteger();
            RpcServer server = cluster.server(b -> b.blockingExecutor(oneThread), s -> s.handle("work", StringValue.parser(), (ctx, req) -> {
                started.incrementAndGet();
                release.await(10, TimeUnit.SECONDS);
                return req;
            }));
            RpcClient client = cluster.client();
            CompletableFuture<StringValue> first = client.invoke(TestCluster.SERVICE, "work", "", StringValue.of("1"),
                    StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5)));
            await(() -> started.get() == 1);

            // A raw socket has no timer of its own: the answer it gets is the server's.
            try (RawPeer peer = new RawPeer(cluster.nodeOf(server).port())) {
                peer.send(Envelope.newBuilder().setRequest(Request.newBuilder().setCallId(1).setMethod("work")
                        .setTimeoutMs(150).setPayload(StringValue.of("2").toByteString())).build());
                Response answer = peer.receive().getResponse();
                assertThat(answer.getCallId()).isEqualTo(1);
                assertThat(Code.forValue(answer.getCode())).isEqualTo(Code.DEADLINE_EXCEEDED);
            }
            release.countDown();
            assertThat(first.get(5, TimeUnit.SECONDS).getValue()).isEqualTo("1");
            // The queued second call reaches the executor after it expired and must not run.
            CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> { }, oneThread);
            drained.get(5, TimeUnit.SECONDS);
            assertThat(started.get()).isEqualTo(1);
        } finally {
            oneThread.shutdownNow();
        }
    }

    @Test
    void oversizedRequestIsResourceExhaustedAndTheConnectionSurvives() throws Exception {
        RpcServer server = cluster.server(b -> b.maxFrameBytes(64 * 1024),
                s -> s.handle("echo", BytesValue.parser(), (ctx, req) -> req));
        // The client allows big frames, so the server is the one that refuses.
        RpcClient client = cluster.client(b -> b.maxFrameBytes(8 * 1024 * 1024));

        CompletableFuture<BytesValue> big = client.invoke(TestCluster.SERVICE, "echo", "",
                BytesValue.of(ByteString.copyFrom(new byte[1024 * 1024])), BytesValue.parser());

        assertThat(codeOf(big)).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(messageOf(big)).contains("frame limit");
        BytesValue small = client.invoke(TestCluster.SERVICE, "echo", "",
                BytesValue.of(ByteString.copyFromUtf8("still here")), BytesValue.parser()).get(5, TimeUnit.SECONDS);
        assertThat(small.getValue().toStringUtf8()).isEqualTo("still here");
        assertThat(server.connectionCount()).isEqualTo(1);
    }

    @Test
    void requestOverTheClientsOwnLimitFailsBeforeItIsSent() {
        AtomicBoolean ran = new AtomicBoolean();
        cluster.server(s -> s.handle("echo", BytesValue.parser(), (ctx, req) -> {
            ran.set(true);
            return req;
        }));
        RpcClient client = cluster.client(b -> b.maxFrameBytes(16 * 1024));

        CompletableFuture<BytesValue> big = client.invoke(TestCluster.SERVICE, "echo", "",
                BytesValue.of(ByteString.copyFrom(new byte[64 * 1024])), BytesValue.parser());

        assertThat(codeOf(big)).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(ran).isFalse();
    }

    @Test
    void oversizedResponseIsResourceExhausted() throws Exception {
        cluster.server(b -> b.maxFrameBytes(16 * 1024),
                s -> s.handle("big", Int32Value.parser(), (ctx, req) -> BytesValue.of(ByteString.copyFrom(new byte[req.getValue()]))));
        RpcClient client = cluster.client();

        CompletableFuture<BytesValue> big =
                client.invoke(TestCluster.SERVICE, "big", "", Int32Value.of(100_000), BytesValue.parser());

        assertThat(codeOf(big)).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(client.invoke(TestCluster.SERVICE, "big", "", Int32Value.of(10), BytesValue.parser())
                .get(5, TimeUnit.SECONDS).getValue().size()).isEqualTo(10);
    }

    @Test
    void garbageBytesCloseThatConnectionAndTheServerKeepsServing() throws Exception {
        RpcServer server = cluster.server(s -> s.handle("echo", StringValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client();

        for (byte[] garbage : new byte[][] {
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(),     // a huge "length" that is not a call
                {0, 0, 0, 5, 1, 2, 3, 4, 5},                         // a frame that is not an envelope
                {0, 0, 0, 0},                                        // an empty envelope
                {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}  // a negative length
        }) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                out.write(garbage);
                out.flush();
                InputStream in = socket.getInputStream();
                assertThat(in.read()).as("server closes the connection").isEqualTo(-1);
            }
        }
        assertThat(client.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("ok"), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("ok");
    }

    @Test
    void truncatedFrameFollowedByCloseLeavesTheServerServing() throws Exception {
        RpcServer server = cluster.server(s -> s.handle("echo", StringValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client();

        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write(new byte[] {0, 0, 1, 0, 0x0a, 0x10, 0x08});
            socket.getOutputStream().flush();
        }

        assertThat(client.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("ok"), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("ok");
    }

    @Test
    void peerGoneMidCallIsUnavailableLongBeforeTheDeadline() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        RpcServer server = cluster.server(b -> b.shutdownGrace(Duration.ZERO), s -> s.handle("hang", StringValue.parser(), (ctx, req) -> {
            entered.countDown();
            new CountDownLatch(1).await(20, TimeUnit.SECONDS);
            return req;
        }));
        RpcClient client = cluster.client();
        CompletableFuture<StringValue> call = client.invoke(TestCluster.SERVICE, "hang", "", StringValue.of(""),
                StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(30)));
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();

        long start = System.nanoTime();
        server.shutdown(Duration.ZERO); // grace zero: the connection is cut with the call in flight

        assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void callsPastTheInFlightLimitAreResourceExhausted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        cluster.server(b -> b.maxInFlightPerConnection(4), s -> s.handle("hold", StringValue.parser(), (ctx, req) -> {
            release.await(10, TimeUnit.SECONDS);
            return req;
        }));
        RpcClient client = cluster.client();

        CompletableFuture<?>[] calls = new CompletableFuture<?>[10];
        for (int i = 0; i < calls.length; i++) {
            calls[i] = client.invoke(TestCluster.SERVICE, "hold", "", StringValue.of("" + i), StringValue.parser());
        }
        int exhausted = 0;
        for (int i = 4; i < calls.length; i++) {
            if (codeOf(calls[i]) == Code.RESOURCE_EXHAUSTED) {
                exhausted++;
            }
        }
        release.countDown();
        for (int i = 0; i < 4; i++) {
            assertThat(calls[i].get(5, TimeUnit.SECONDS)).isNotNull();
        }
        assertThat(exhausted).isEqualTo(6);
    }

    @Test
    void serviceWithoutNodesIsUnavailable() {
        RpcClient client = cluster.client();

        CompletableFuture<StringValue> call =
                client.invoke("nobody", "m", "", StringValue.of(""), StringValue.parser());

        assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
        assertThat(messageOf(call)).contains("nobody");
    }

    @Test
    void badArgumentsFailAtOnceWithTheirName() {
        RpcClient client = cluster.client();

        // A call's bad argument fails its future (ClientArgumentsTest covers every entry point);
        // configuration fails when it is set.
        assertThat(codeOf(client.invoke("", "m", "", new byte[0]))).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(messageOf(client.invoke("", "m", "", new byte[0]))).contains("target");
        assertThat(codeOf(client.invoke("svc", " ", "", new byte[0]))).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(messageOf(client.invoke("svc", " ", "", new byte[0]))).contains("method");
        assertThatThrownBy(() -> RpcServer.builder().port(70_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
        assertThatThrownBy(() -> RpcClient.builder().build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("discover");
        assertThatThrownBy(() -> cluster.server(s -> {
            s.handle("twice", StringValue.parser(), (ctx, req) -> req);
            s.handle("twice", StringValue.parser(), (ctx, req) -> req);
        })).isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT))
                .hasMessageContaining("twice");
    }

    /** Waits for a condition with a deadline, never a bare sleep. */
    static void await(java.util.function.BooleanSupplier condition) {
        io.braid.testkit.Await.until(Duration.ofSeconds(10), "condition", condition);
    }
}
