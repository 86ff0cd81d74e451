package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.api.Ticker;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.testkit.Await;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client's timing policies read the builder's ticker: a test moves time instead of waiting for it. */
class ClientTickerTest {
    private final TestCluster cluster = new TestCluster();
    /** Starts near the top of the long range, so the ejection's end wraps around. */
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - Duration.ofSeconds(30).toNanos());
    private final Ticker ticker = now::get;

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private static void answersWith(RpcServer server, AtomicInteger served, String name) {
        server.handle("who", StringValue.parser(), (ctx, req) -> {
            served.incrementAndGet();
            return StringValue.of(name);
        });
    }

    private String who(RpcClient client) throws Exception {
        return client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue();
    }

    @Test
    void anEjectedNodeStaysOutUntilTheTickerPassesItsBackoffAndComesBackThen() throws Exception {
        AtomicInteger live = new AtomicInteger();
        cluster.server(s -> answersWith(s, live, "live"));
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort(); // closed again: connects to it are refused
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        cluster.discover.register(Node.of("flaky", TestCluster.SERVICE, "127.0.0.1", port, 100));
        // A minute's backoff: on the real clock this test would take a minute.
        RpcClient client = cluster.client(b -> b.ticker(ticker).maxAttempts(1)
                .ejection(2, Duration.ofMinutes(1), Duration.ofMinutes(5)));
        int refused = 0;
        while (refused < 2) { // one attempt per call: two refused connects eject the node
            CompletableFuture<StringValue> call =
                    client.invoke(TestCluster.SERVICE, "who", "", StringValue.of(""), StringValue.parser());
            try {
                call.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                assertThat(codeOf(call)).isEqualTo(Code.UNAVAILABLE);
                refused++;
            }
        }
        AtomicInteger revived = new AtomicInteger();
        RpcServer back = RpcServer.builder().host("127.0.0.1").port(port).ioThreads(1).build();
        answersWith(back, revived, "revived");
        cluster.track(back.start());

        now.addAndGet(Duration.ofSeconds(59).toNanos());
        for (int i = 0; i < 40; i++) {
            assertThat(who(client)).isEqualTo("live");
        }
        assertThat(revived).hasValue(0);

        now.addAndGet(Duration.ofSeconds(1).toNanos());
        Await.until(Duration.ofSeconds(10), "the node back after its backoff gets calls", () -> {
            try {
                who(client);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return revived.get() > 0;
        });
    }
}
