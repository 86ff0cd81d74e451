package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RoundTripTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    @Test
    void blockingHandlerRunsOnVirtualThreadAndSeesTheCall() throws Exception {
        ConcurrentHashMap<String, String> seen = new ConcurrentHashMap<>();
        cluster.server(s -> s.handle("whoami", StringValue.parser(), (ctx, req) -> {
            seen.put("virtual", String.valueOf(Thread.currentThread().isVirtual()));
            seen.put("token", ctx.token());
            seen.put("caller", ctx.caller());
            seen.put("zone", ctx.metadata().getOrDefault("zone", "?"));
            seen.put("deadlineMs", String.valueOf(ctx.deadline().remainingMillis()));
            return StringValue.of("hello " + req.getValue());
        }));
        RpcClient client = cluster.client();

        StringValue reply = client.invoke(TestCluster.SERVICE, "whoami", "player-7", StringValue.of("ann"),
                StringValue.parser(), CallOptions.DEFAULT.withMetadata("zone", "eu").withTimeout(java.time.Duration.ofSeconds(3)))
                .get(5, TimeUnit.SECONDS);

        assertThat(reply.getValue()).isEqualTo("hello ann");
        assertThat(seen).containsEntry("virtual", "true").containsEntry("token", "player-7")
                .containsEntry("caller", "test-client").containsEntry("zone", "eu");
        assertThat(Long.parseLong(seen.get("deadlineMs"))).isBetween(1L, 3000L);
    }

    @Test
    void asyncHandlerRunsInlineOnTheEventLoop() throws Exception {
        cluster.server(s -> s.handleAsync("thread", StringValue.parser(), (ctx, req) ->
                CompletableFuture.completedFuture(StringValue.of(Thread.currentThread().getName()))));
        RpcClient client = cluster.client();

        String thread = client.invoke(TestCluster.SERVICE, "thread", "", StringValue.of(""), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue();

        assertThat(thread).startsWith("braid-rpc-server");
    }

    @Test
    void asyncHandlerMayCompleteLaterOnAnotherThread() throws Exception {
        cluster.server(s -> s.handleAsync("later", StringValue.parser(), (ctx, req) ->
                CompletableFuture.supplyAsync(() -> StringValue.of(req.getValue() + "!"),
                        CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS))));
        RpcClient client = cluster.client();

        assertThat(client.invoke(TestCluster.SERVICE, "later", "", StringValue.of("x"), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("x!");
    }

    @Test
    void rawBytesRoundTrip() throws Exception {
        cluster.server(s -> s.handleBytes("reverse", (ctx, req) -> new StringBuilder(
                new String(req, StandardCharsets.UTF_8)).reverse().toString().getBytes(StandardCharsets.UTF_8)));
        RpcClient client = cluster.client();

        byte[] reply = client.invoke(TestCluster.SERVICE, "reverse", "", "braid".getBytes(StandardCharsets.UTF_8))
                .get(5, TimeUnit.SECONDS);

        assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo("diarb");
    }

    @Test
    void tenThousandConcurrentCallsOnOneConnectionEachGetTheirOwnAnswer() throws Exception {
        RpcServer server = cluster.server(s -> {
            s.handle("echo", BytesValue.parser(), (ctx, req) -> req);
            s.handleAsync("echoInline", BytesValue.parser(), (ctx, req) -> CompletableFuture.completedFuture(req));
        });
        RpcClient client = cluster.client();

        for (String method : List.of("echo", "echoInline")) {
            List<CompletableFuture<BytesValue>> calls = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                // A generous deadline: this test is about correlation, and CI machines are shared.
                calls.add(client.invoke(TestCluster.SERVICE, method, "",
                        BytesValue.of(ByteString.copyFromUtf8("call-" + i)), BytesValue.parser(),
                        CallOptions.DEFAULT.withTimeout(java.time.Duration.ofSeconds(60))));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertThat(calls.get(i).get(60, TimeUnit.SECONDS).getValue().toStringUtf8())
                        .isEqualTo("call-" + i);
            }
        }
        assertThat(server.connectionCount()).isEqualTo(1);
    }

    @Test
    void poolSpreadsCallsOverSeveralConnections() throws Exception {
        RpcServer server = cluster.server(s -> s.handle("echo", BytesValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client(b -> b.connectionsPerPeer(4));

        List<CompletableFuture<BytesValue>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add(client.invoke(TestCluster.SERVICE, "echo", "", BytesValue.of(ByteString.copyFromUtf8("" + i)),
                    BytesValue.parser()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        assertThat(server.connectionCount()).isEqualTo(4);
    }
}
