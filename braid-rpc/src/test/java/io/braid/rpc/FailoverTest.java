package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.await;
import static io.braid.rpc.ErrorPathTest.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.StaticDiscover;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** GoAway drain, retries of calls never written, idempotent retries, ejection and recovery, keep-alive. */
class FailoverTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private static RpcServer counting(RpcServer server, AtomicInteger calls, String name) {
        server.handle("who", StringValue.parser(), (ctx, req) -> {
            calls.incrementAndGet();
            return StringValue.of(name);
        });
        return server;
    }

    /** A port nothing listens on: connects to it are refused. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void goAwayLetsCallsInFlightFinishAndSendsNewCallsElsewhere() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RpcServer leaving = cluster.server(b -> b.shutdownGrace(Duration.ofSeconds(10)), s -> {
            s.handle("hold", StringValue.parser(), (ctx, req) -> {
                entered.countDown();
                release.await(10, TimeUnit.SECONDS);
                return StringValue.of("finished");
            });
            s.handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("leaving"));
        });
        cluster.server(s -> s.handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("staying")));
        RpcClient client = cluster.client();
        // Warm up until the client holds a connection to both nodes.
        List<String> warm = new ArrayList<>();
        await(() -> {
            warm.add(client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser()).join().getValue());
            return warm.contains("leaving") && warm.contains("staying");
        });
        StaticDiscover onlyLeaving = StaticDiscover.of(cluster.nodeOf(leaving));
        RpcClient pinned = cluster.client(b -> b.discover(onlyLeaving));
        CompletableFuture<StringValue> inFlight =
                pinned.invoke(TestCluster.SERVICE, "hold", "", StringValue.of(""), StringValue.parser());
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> shutdown = leaving.shutdown(Duration.ofSeconds(10));

        // Discovery still lists the leaving node, yet every new call reaches the staying one.
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            answers.add(client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser())
                    .get(5, TimeUnit.SECONDS).getValue());
        }
        assertThat(answers).containsOnly("staying");
        assertThat(shutdown).isNotDone();
        release.countDown();
        assertThat(inFlight.get(5, TimeUnit.SECONDS).getValue()).isEqualTo("finished");
        shutdown.get(5, TimeUnit.SECONDS);
        assertThat(leaving.connectionCount()).isZero();
        onlyLeaving.close();
    }

    @Test
    void statelessCallsNeverWrittenAreRetriedOnAnotherNode() throws Exception {
        AtomicInteger live = new AtomicInteger();
        cluster.server(s -> counting(s, live, "live"));
        cluster.discover.register(Node.of("dead", TestCluster.SERVICE, "127.0.0.1", closedPort(), 100));
        RpcClient client = cluster.client(b -> b.ejection(1000, Duration.ofSeconds(1), Duration.ofSeconds(1)));

        for (int i = 0; i < 40; i++) {
            assertThat(client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser())
                    .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("live");
        }
        assertThat(live.get()).isEqualTo(40);
    }

    @Test
    void aTokenCallIsNeverMovedToAnotherNodeByARetry() throws Exception {
        AtomicInteger live = new AtomicInteger();
        cluster.server(s -> counting(s, live, "live"));
        cluster.discover.register(Node.of("dead", TestCluster.SERVICE, "127.0.0.1", closedPort(), 100));
        RpcClient client = cluster.client(b -> b.ejection(1000, Duration.ofSeconds(1), Duration.ofSeconds(1)));

        // Smooth weighted round robin over two equal nodes alternates: one of two token calls picks "dead".
        int unavailable = 0;
        for (int i = 0; i < 10; i++) {
            CompletableFuture<StringValue> call =
                    client.invoke(TestCluster.SERVICE, "who", "player-" + i, StringValue.of(""), StringValue.parser());
            try {
                call.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
                unavailable++;
            }
        }
        assertThat(unavailable).isEqualTo(5);
        assertThat(live.get()).isEqualTo(5);
    }

    @Test
    void aCallLostAfterItWasWrittenIsRetriedOnlyWhenIdempotent() throws Exception {
        CountDownLatch entered = new CountDownLatch(2);
        RpcServer dying = cluster.server(b -> b.shutdownGrace(Duration.ZERO), s -> {
            s.handle("work", StringValue.parser(), (ctx, req) -> {
                entered.countDown();
                new CountDownLatch(1).await(20, TimeUnit.SECONDS);
                return StringValue.of("dying");
            });
        });
        Node dyingNode = cluster.nodeOf(dying);
        StaticDiscover view = StaticDiscover.of(dyingNode);
        RpcClient client = cluster.client(b -> b.discover(view));
        CompletableFuture<StringValue> plain = client.invoke(TestCluster.SERVICE, "work", "", StringValue.of(""),
                StringValue.parser());
        CompletableFuture<StringValue> idempotent = client.invoke(TestCluster.SERVICE, "work", "", StringValue.of(""),
                StringValue.parser(), CallOptions.DEFAULT.withIdempotent(true));
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
        // A second node appears, then the first dies with both calls on the wire.
        AtomicInteger survivorCalls = new AtomicInteger();
        RpcServer survivor = cluster.server(s -> s.handle("work", StringValue.parser(), (ctx, req) -> {
            survivorCalls.incrementAndGet();
            return StringValue.of("survivor");
        }));
        view.register(cluster.nodeOf(survivor));

        dying.shutdown(Duration.ZERO);

        assertThat(codeOf(plain)).isEqualTo(Code.UNAVAILABLE);
        assertThat(idempotent.get(5, TimeUnit.SECONDS).getValue()).isEqualTo("survivor");
        assertThat(survivorCalls.get()).isEqualTo(1);
        view.close();
    }

    @Test
    void aNodeFailingToConnectIsEjectedThenLetBack() throws Exception {
        AtomicInteger live = new AtomicInteger();
        cluster.server(s -> counting(s, live, "live"));
        int port = closedPort();
        cluster.discover.register(Node.of("flaky", TestCluster.SERVICE, "127.0.0.1", port, 100));
        RpcClient client = cluster.client(b -> b.maxAttempts(1).ejection(2, Duration.ofSeconds(1), Duration.ofSeconds(5)));
        // One attempt per call, so a refused connect shows as a failed call; two of them eject the node.
        int refused = 0;
        while (refused < 2) {
            CompletableFuture<StringValue> call =
                    client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser());
            try {
                call.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
                refused++;
            }
        }
        long ejectedUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(800);

        // The node comes back on the same port while ejected: for now it gets nothing.
        AtomicInteger revived = new AtomicInteger();
        RpcServer back = RpcServer.builder().host("127.0.0.1").port(port).ioThreads(1).build();
        counting(back, revived, "revived").start();
        try {
            while (System.nanoTime() < ejectedUntil) {
                assertThat(client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser())
                        .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("live");
            }
            int duringEjection = revived.get();
            // After the backoff it is let back in and takes its share again.
            await(() -> {
                client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser()).join();
                return revived.get() > 0;
            });
            assertThat(duringEjection).isZero();
        } finally {
            back.close();
        }
    }

    @Test
    void aServerThatStopsAnsweringIsDetectedByKeepAlive() throws Exception {
        try (ServerSocket silent = new ServerSocket(0)) {
            // Accepts connections (the kernel does) but never reads or answers, like a frozen process.
            StaticDiscover view = StaticDiscover.of(Node.of("frozen", TestCluster.SERVICE, "127.0.0.1", silent.getLocalPort(), 100));
            RpcClient client = cluster.client(b -> b.discover(view).pingInterval(Duration.ofMillis(100))
                    .keepAliveTimeout(Duration.ofMillis(400)));
            long start = System.nanoTime();
            CompletableFuture<StringValue> call = client.invoke(TestCluster.SERVICE, "who", "player", StringValue.of(""),
                    StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(20)));

            assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            view.close();
        }
    }

    @Test
    void aSilentClientIsClosedByTheServersIdleTimeout() throws Exception {
        RpcServer server = cluster.server(b -> b.idleTimeout(Duration.ofMillis(300)), s -> { });
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void keepAlivePingsHoldAnIdleConnectionOpenPastTheServersIdleTimeout() throws Exception {
        RpcServer server = cluster.server(b -> b.idleTimeout(Duration.ofMillis(300)),
                s -> s.handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("x")));
        RpcClient client = cluster.client(b -> b.pingInterval(Duration.ofMillis(50)).keepAliveTimeout(Duration.ofSeconds(2)));
        client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser()).get(5, TimeUnit.SECONDS);
        RpcServer probe = cluster.server(b -> b.idleTimeout(Duration.ofMillis(300)), s -> { });
        // A connection without pings to the probe server closes after 300 ms; the pinged one stays.
        try (java.net.Socket silent = new java.net.Socket("127.0.0.1", probe.port())) {
            silent.setSoTimeout(10_000);
            assertThat(silent.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(server.connectionCount()).isEqualTo(1);
    }
}
