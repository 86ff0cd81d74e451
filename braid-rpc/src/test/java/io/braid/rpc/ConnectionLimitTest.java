package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.Response;
import io.braid.testkit.Await;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server's connection cap ({@code maxConnections}) against a real flood of sockets, and the
 * frame read timeout ({@code frameReadTimeout}) against a slowloris that begins a frame and
 * dribbles its body.
 */
class ConnectionLimitTest {
    private final TestCluster cluster = new TestCluster();
    private final List<SocketChannel> flood = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (SocketChannel socket : flood) {
            socket.close();
        }
        cluster.close();
    }

    private static String ask(RpcClient client) throws Exception {
        return client.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("still here"), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue();
    }

    /** -1 at the end of the stream or on a reset; 0 while the connection is open and quiet. */
    private static int poke(SocketChannel socket) {
        try {
            return socket.read(ByteBuffer.allocate(64)) < 0 ? -1 : 0;
        } catch (IOException reset) {
            return -1;
        }
    }

    @Test
    void aFloodPastMaxConnectionsIsRefusedAtOnceWhileTheClientAlreadyConnectedIsServed() throws Exception {
        int max = 40;
        int floodSize = 400;
        RpcServer server = cluster.server(b -> b.maxConnections(max).idleTimeout(Duration.ofMinutes(1)),
                s -> s.handle("echo", StringValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client();
        assertThat(ask(client)).isEqualTo("still here");
        assertThat(server.connectionCount()).isEqualTo(1);

        int highest = 0;
        for (int i = 0; i < floodSize; i++) {
            SocketChannel socket = SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port()));
            socket.configureBlocking(false);
            flood.add(socket);
            highest = Math.max(highest, server.connectionCount());
        }
        assertThat(highest).as("connections held at once during the flood").isLessThanOrEqualTo(max);
        assertThat(ask(client)).as("the client connected before the flood").isEqualTo("still here");

        // Everyone past the cap is closed by the server (a reset), without sending anything first;
        // those within it stay open.
        int refused = floodSize - (max - 1);
        Set<SocketChannel> closed = new HashSet<>();
        Await.until(Duration.ofSeconds(15), () -> "refused connections closed: " + closed.size() + " of " + refused,
                () -> {
                    for (SocketChannel socket : flood) {
                        if (!closed.contains(socket) && poke(socket) < 0) {
                            closed.add(socket);
                        }
                    }
                    return closed.size() >= refused;
                });
        assertThat(closed).hasSize(refused);
        assertThat(server.rejectedConnectionCount()).isEqualTo(refused);
        assertThat(server.connectionCount()).isEqualTo(max);
        assertThat(ask(client)).isEqualTo("still here");

        // A new client past the cap gets a clear UNAVAILABLE, not a hang.
        RpcClient latecomer = cluster.client();
        assertThatThrownBy(() -> latecomer.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("x"),
                StringValue.parser()).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE));

        // The flood leaves: its slots come back and a new client is served.
        for (SocketChannel socket : flood) {
            socket.close();
        }
        flood.clear();
        Await.until(Duration.ofSeconds(10), "the flood's slots to be given back", () -> server.connectionCount() <= 2);
        RpcClient later = cluster.client();
        assertThat(ask(later)).isEqualTo("still here");
        assertThat(ask(client)).isEqualTo("still here");
    }

    @Test
    void maxConnectionsAndFrameReadTimeoutAreValidatedWhenSet() {
        assertThatThrownBy(() -> RpcServer.builder().maxConnections(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxConnections").hasMessageContaining("1..1000000");
        assertThatThrownBy(() -> RpcServer.builder().frameReadTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frameReadTimeout");
        assertThat(RpcServer.Builder.DEFAULT_MAX_CONNECTIONS).isEqualTo(10_000);
        assertThat(RpcServer.Builder.DEFAULT_FRAME_READ_TIMEOUT).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void aSlowlorisThatDribblesAFrameBodyIsCutByFrameReadTimeoutThoughItIsNeverIdle() throws Exception {
        Duration frameReadTimeout = Duration.ofMillis(600);
        RpcServer server = cluster.server(b -> b.frameReadTimeout(frameReadTimeout).idleTimeout(Duration.ofMinutes(1)),
                s -> s.handle("echo", StringValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client();
        assertThat(ask(client)).isEqualTo("still here");

        ScheduledExecutorService dribbler = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger dribbled = new AtomicInteger();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(20_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            long begun = System.nanoTime();
            out.writeInt(100_000); // a plausible frame length, then a byte every 50 ms: it would take 83 minutes
            out.flush();
            dribbler.scheduleAtFixedRate(() -> {
                try {
                    out.write(0x0a);
                    out.flush();
                    dribbled.incrementAndGet();
                } catch (IOException closedByServer) {
                    throw new IllegalStateException(closedByServer); // ends the schedule
                }
            }, 50, 50, TimeUnit.MILLISECONDS);

            InputStream in = socket.getInputStream();
            int read;
            try {
                read = in.read();
            } catch (SocketException reset) {
                read = -1;
            }
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begun);
            assertThat(read).as("the server closes the dribbling connection").isEqualTo(-1);
            assertThat(elapsedMs).as("closed after frameReadTimeout, long before the idle timeout of a minute")
                    .isBetween(frameReadTimeout.toMillis() - 50, 15_000L);
            assertThat(dribbled.get()).as("bytes dribbled meanwhile (each one resets the idle timer)").isGreaterThan(3);
        } finally {
            dribbler.shutdownNow();
        }
        Await.until(Duration.ofSeconds(5), "the slowloris connection to be gone", () -> server.connectionCount() == 1);
        assertThat(ask(client)).isEqualTo("still here");
    }

    @Test
    void silenceBetweenWholeFramesIsNotCutByFrameReadTimeout() throws Exception {
        RpcServer server = cluster.server(b -> b.frameReadTimeout(Duration.ofMillis(200)).idleTimeout(Duration.ofMinutes(1)),
                s -> s.handle("echo", StringValue.parser(), (ctx, req) -> req));
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertThat(echo(out, in, 1, "one")).isEqualTo("one");
            // Five times the frame read timeout without a byte: the connection stays open.
            socket.setSoTimeout(1_000);
            assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
            socket.setSoTimeout(10_000);
            assertThat(echo(out, in, 2, "two")).isEqualTo("two");
        }
    }

    private static String echo(DataOutputStream out, DataInputStream in, long callId, String text) throws IOException {
        byte[] frame = Envelope.newBuilder().setRequest(Request.newBuilder().setCallId(callId).setMethod("echo")
                .setTimeoutMs(5_000).setPayload(StringValue.of(text).toByteString())).build().toByteArray();
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
        byte[] answer = new byte[in.readInt()];
        in.readFully(answer);
        Response response = Envelope.parseFrom(answer).getResponse();
        assertThat(response.getCallId()).isEqualTo(callId);
        assertThat(Code.forValue(response.getCode())).isEqualTo(Code.OK);
        return StringValue.parseFrom(response.getPayload()).getValue();
    }
}
