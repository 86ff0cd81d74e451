package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.braid.api.CallOptions;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.Login;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The slow-client policy: a client that does not read gets at most maxPendingBytes queued; a push
 * beyond that is not written, its connection is closed and the session detaches (the pushes stay
 * in the replay buffer). It never delays other clients on the same event loop.
 */
class SlowClientTest {
    static final int PUSHES = 10_000;
    /** The other client's calls share the event loop with the slow client's writes. */
    static final Duration GENEROUS_CALL = Duration.ofSeconds(2);
    /**
     * Pushes to the other client also wait in the gateway node's RPC intake behind the 10,000
     * pushes to the slow one (the pusher's cost, not the slow client's): a bound more generous still.
     */
    static final Duration GENEROUS_PUSH = Duration.ofSeconds(5);
    static final Duration FLOOD_TIMEOUT = Duration.ofSeconds(60);

    private final GatewayFixture cluster = GatewayFixture.inMemory();

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @Test
    void aClientThatDoesNotReadIsClosedAndNeverDelaysAnotherOnTheSameEventLoop() throws Exception {
        // One I/O thread: both connections share its event loop.
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.ioThreads(1)
                .maxPendingBytes(64 * 1024).resumeGrace(Duration.ofSeconds(20)));
        try (Socket slow = new Socket(); TestClient fast = TestClient.tcp(one.tcp())) {
            slow.setReceiveBufferSize(4096);
            slow.connect(one.tcp());
            DataOutputStream out = new DataOutputStream(slow.getOutputStream());
            byte[] login = ClientFrame.newBuilder().setLogin(Login.newBuilder()
                    .setCredentials(ByteString.copyFromUtf8("player:slow"))).build().toByteArray();
            out.writeInt(login.length);
            out.write(login);
            out.flush();
            DataInputStream in = new DataInputStream(slow.getInputStream());
            byte[] answer = new byte[in.readInt()];
            in.readFully(answer);
            assertThat(ServerFrame.parseFrom(answer).hasLoginOk()).isTrue();
            // Pushes to the fast client come from another node than the flood, so they do not queue behind it.
            GatewayPush otherPusher = GatewayPush.of(cluster.gateway("gateway-2").node().client(),
                    GatewayFixture.SERVICE);
            // From here on the slow client reads nothing.
            assertThat(fast.login("player:fast").hasLoginOk()).isTrue();

            byte[] payload = new byte[1024];
            long start = System.nanoTime();
            List<CompletableFuture<Long>> flood = new ArrayList<>();
            // The flood is measured for what it does to the other client, not for its own speed: on a
            // loaded machine its last pushes wait past the default 10 s timeout in the node's intake.
            GatewayPush floodPusher = cluster.pusher().withOptions(CallOptions.DEFAULT.withTimeout(FLOOD_TIMEOUT));
            for (int i = 0; i < PUSHES; i++) {
                flood.add(floodPusher.push("player:slow", payload));
            }
            long worstCallNanos = 0;
            long worstPushNanos = 0;
            for (int i = 0; i < 50; i++) {
                long t0 = System.nanoTime();
                assertThat(fast.call("logic.player.act", "c" + i).getCode()).isZero();
                worstCallNanos = Math.max(worstCallNanos, System.nanoTime() - t0);
                int seen = fast.pushes().size();
                long t1 = System.nanoTime();
                otherPusher.push("player:fast", new byte[] {(byte) i}).join();
                Await.until(TestClient.WAIT, "push " + i + " to the fast client", () -> fast.pushes().size() > seen);
                worstPushNanos = Math.max(worstPushNanos, System.nanoTime() - t1);
            }
            List<Long> seqs = flood.stream().map(CompletableFuture::join).sorted().toList();
            long floodMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, PUSHES).boxed().toList());
            // The slow connection was closed for not reading; its session is DETACHED, the fast one still bound.
            Await.until(TestClient.WAIT, "the slow session to detach", () -> one.gateway().sessionCount() == 1);
            assertThat(fast.pushes()).hasSize(50);
            System.out.printf("slow client: %d pushes of 1 KiB accepted in %d ms; meanwhile the other client's"
                    + " worst call %.1f ms, worst push %.1f ms%n", PUSHES, floodMillis, worstCallNanos / 1e6,
                    worstPushNanos / 1e6);
            assertThat(Duration.ofNanos(worstCallNanos)).isLessThan(GENEROUS_CALL);
            assertThat(Duration.ofNanos(worstPushNanos)).isLessThan(GENEROUS_PUSH);
        }
    }
}
