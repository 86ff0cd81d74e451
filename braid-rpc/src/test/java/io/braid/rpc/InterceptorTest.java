package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static io.braid.rpc.ErrorPathTest.messageOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientInterceptor;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.api.ServerInterceptor;
import io.braid.rpc.internal.RpcClient;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Client and server interceptor chains: order, metadata both ways, short-circuit, outcome. */
class InterceptorTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private static ClientInterceptor recordingClient(String name, List<String> trace) {
        return (call, next) -> {
            trace.add("client " + name + " before");
            call.metadata().put("seen-by", call.metadata().getOrDefault("seen-by", "") + name);
            return next.proceed(call).whenComplete((answer, failure) ->
                    trace.add("client " + name + " after " + (failure == null ? "OK" : BraidException.from(failure).code())));
        };
    }

    private static ServerInterceptor recordingServer(String name, List<String> trace) {
        return (call, next) -> {
            trace.add("server " + name + " before");
            call.putMetadata("server-seen-by", call.metadata().getOrDefault("server-seen-by", "") + name);
            call.responseMetadata().put("answered-by-" + name, "yes");
            return next.proceed(call).whenComplete((answer, failure) -> trace.add("server " + name + " after"));
        };
    }

    @Test
    void chainsRunInOrderOnBothSidesAndCarryMetadataBothWays() throws Exception {
        List<String> trace = new CopyOnWriteArrayList<>();
        Map<String, String> handlerSaw = new ConcurrentHashMap<>();
        cluster.server(b -> b.intercept(recordingServer("A", trace)).intercept(recordingServer("B", trace)),
                s -> s.handle("echo", StringValue.parser(), (ctx, req) -> {
                    trace.add("handler");
                    handlerSaw.putAll(ctx.metadata());
                    return req;
                }));
        AtomicBoolean responseMetadataSeen = new AtomicBoolean();
        RpcClient client = cluster.client(b -> b.intercept(recordingClient("1", trace)).intercept(recordingClient("2", trace))
                .intercept((call, next) -> next.proceed(call).whenComplete((a, f) ->
                        responseMetadataSeen.set("yes".equals(call.responseMetadata().get("answered-by-A"))))));

        client.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("x"), StringValue.parser()).get(5, TimeUnit.SECONDS);

        assertThat(trace).containsExactly("client 1 before", "client 2 before", "server A before", "server B before",
                "handler", "server B after", "server A after", "client 2 after OK", "client 1 after OK");
        assertThat(handlerSaw).containsEntry("seen-by", "12").containsEntry("server-seen-by", "AB");
        assertThat(responseMetadataSeen).isTrue();
    }

    @Test
    void aClientInterceptorShortCircuitsWithItsOwnCode() {
        AtomicInteger served = new AtomicInteger();
        cluster.server(s -> s.handle("echo", StringValue.parser(), (ctx, req) -> {
            served.incrementAndGet();
            return req;
        }));
        RpcClient client = cluster.client(b -> b.intercept((call, next) ->
                CompletableFuture.failedFuture(new BraidException(Code.RESOURCE_EXHAUSTED, "slow down, " + call.token()))));

        CompletableFuture<StringValue> call =
                client.invoke(TestCluster.SERVICE, "echo", "player-1", StringValue.of("x"), StringValue.parser());

        assertThat(codeOf(call)).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(messageOf(call)).isEqualTo("slow down, player-1");
        assertThat(served).hasValue(0);
    }

    @Test
    void aServerInterceptorRefusesAndTheHandlerNeverRuns() {
        AtomicInteger served = new AtomicInteger();
        cluster.server(b -> b.intercept((call, next) -> {
            if (!"let-me-in".equals(call.metadata().get("password"))) {
                throw new BraidException(Code.UNAUTHENTICATED, "who are you?");
            }
            return next.proceed(call);
        }), s -> s.handle("echo", StringValue.parser(), (ctx, req) -> {
            served.incrementAndGet();
            return req;
        }));
        RpcClient client = cluster.client();

        CompletableFuture<StringValue> refused =
                client.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("x"), StringValue.parser());
        CompletableFuture<StringValue> admitted = client.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("x"),
                StringValue.parser(), CallOptions.DEFAULT.withMetadata("password", "let-me-in"));

        assertThat(codeOf(refused)).isEqualTo(Code.UNAUTHENTICATED);
        assertThat(admitted.join().getValue()).isEqualTo("x");
        assertThat(served).hasValue(1);
    }

    @Test
    void aHandlersDeadlineFlowsIntoTheCallsItMakes() throws Exception {
        RpcClient inner = cluster.client();
        cluster.server(s -> {
            s.handle("outer", StringValue.parser(), (ctx, req) -> {
                // No timeout of its own: it inherits what is left of the outer call's 300 ms.
                try {
                    return inner.invoke(TestCluster.SERVICE, "slow", "", req, StringValue.parser()).join();
                } catch (Exception e) {
                    return StringValue.of("inner failed with " + BraidException.from(e).code());
                }
            });
            s.handle("slow", StringValue.parser(), (ctx, req) -> {
                TimeUnit.MILLISECONDS.sleep(ctx.deadline().remainingMillis() + 200); // outlives its deadline
                return req;
            });
        });
        RpcClient client = cluster.client();

        long start = System.nanoTime();
        CompletableFuture<StringValue> call = client.invoke(TestCluster.SERVICE, "outer", "", StringValue.of("x"),
                StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofMillis(300)));

        assertThat(codeOf(call)).isEqualTo(Code.DEADLINE_EXCEEDED);
        // Without propagation the inner call would wait its default 10 s; with it, both end near 300 ms.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void theOutcomeIsObservedForFailuresToo() throws Exception {
        List<Code> outcomes = new CopyOnWriteArrayList<>();
        cluster.server(s -> s.handle("boom", StringValue.parser(), (ctx, req) -> {
            throw new BraidException(Code.FAILED_PRECONDITION, "not now");
        }));
        RpcClient client = cluster.client(b -> b.intercept((call, next) -> next.proceed(call)
                .whenComplete((a, f) -> outcomes.add(f == null ? Code.OK : BraidException.from(f).code()))));

        codeOf(client.invoke(TestCluster.SERVICE, "boom", "", StringValue.of(""), StringValue.parser()));
        codeOf(client.invoke(TestCluster.SERVICE, "missing", "", StringValue.of(""), StringValue.parser()));

        assertThat(outcomes).containsExactly(Code.FAILED_PRECONDITION, Code.NOT_FOUND);
    }

    @Test
    void aStreamGoesThroughTheClientInterceptorsWhichSeeItsEnd() throws Exception {
        List<String> trace = new CopyOnWriteArrayList<>();
        Map<String, String> handlerSaw = new ConcurrentHashMap<>();
        cluster.server(s -> s.handleStream("echo.stream", StringValue.parser(), (ctx, in, out) -> {
            handlerSaw.putAll(ctx.metadata());
            StringValue next;
            while ((next = in.read()) != null) {
                out.write(next);
            }
        }));
        RpcClient client = cluster.client(b -> b.intercept(recordingClient("1", trace)));

        ClientStream<StringValue, StringValue> stream = client.stream(TestCluster.SERVICE, "echo.stream", "player-1",
                StringValue.parser(), CallOptions.DEFAULT);
        stream.send(StringValue.of("x")).get(5, TimeUnit.SECONDS);
        assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo("x");
        assertThat(trace).containsExactly("client 1 before"); // the stream is open: its outcome is not known yet
        stream.halfClose();
        stream.done().get(5, TimeUnit.SECONDS);

        Await.until(Duration.ofSeconds(5), "the interceptor sees the stream's end", () -> trace.size() == 2);
        assertThat(trace).containsExactly("client 1 before", "client 1 after OK");
        assertThat(handlerSaw).containsEntry("seen-by", "1");
    }

    @Test
    void aClientInterceptorRefusesAStreamWhichNeverOpens() {
        AtomicInteger opened = new AtomicInteger();
        cluster.server(s -> s.handleStream("echo.stream", StringValue.parser(), (ctx, in, out) -> {
            opened.incrementAndGet();
        }));
        RpcClient client = cluster.client(b -> b.intercept((call, next) ->
                CompletableFuture.failedFuture(new BraidException(Code.RESOURCE_EXHAUSTED, "slow down, " + call.token()))));

        ClientStream<StringValue, StringValue> stream = client.stream(TestCluster.SERVICE, "echo.stream", "player-1",
                StringValue.parser(), CallOptions.DEFAULT);

        assertThat(codeOf(stream.done())).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(messageOf(stream.done())).isEqualTo("slow down, player-1");
        assertThat(codeOf(stream.receive())).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(opened).hasValue(0);
    }

    @Test
    void aStreamOpenedInsideAHandlerCarriesTheHandlersDeadline() throws Exception {
        RpcClient inner = cluster.client();
        CompletableFuture<Long> streamDeadlineMillis = new CompletableFuture<>();
        cluster.server(s -> {
            s.handle("outer", StringValue.parser(), (ctx, req) -> {
                // No timeout of its own: it inherits what is left of the outer call's 300 ms.
                ClientStream<StringValue, StringValue> stream = inner.stream(TestCluster.SERVICE, "watch", "",
                        StringValue.parser(), CallOptions.DEFAULT);
                stream.halfClose();
                stream.done().get(5, TimeUnit.SECONDS);
                return req;
            });
            s.handleStream("watch", StringValue.parser(), (ctx, in, out) ->
                    streamDeadlineMillis.complete(ctx.deadline().remainingMillis()));
        });
        RpcClient client = cluster.client();

        client.invoke(TestCluster.SERVICE, "outer", "", StringValue.of("x"), StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(Duration.ofMillis(300))).get(5, TimeUnit.SECONDS);

        // Without propagation the stream would get the client's default 10 s.
        assertThat(streamDeadlineMillis.get(5, TimeUnit.SECONDS)).isPositive().isLessThanOrEqualTo(300);
    }
}
