package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.testkit.Await;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Silent connections, a flood of them, and random bytes: the server sheds them and keeps serving. */
class HostileClientsTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private static String ask(RpcClient client) throws Exception {
        return client.invoke(TestCluster.SERVICE, "echo", "", StringValue.of("still here"), StringValue.parser())
                .get(5, TimeUnit.SECONDS).getValue();
    }

    @Test
    void aFloodOfSilentConnectionsIsShedWhileAWellBehavedClientIsServed() throws Exception {
        RpcServer server = cluster.server(b -> b.idleTimeout(Duration.ofMillis(500)),
                s -> s.handle("echo", StringValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client(b -> b.pingInterval(Duration.ofMillis(100)).keepAliveTimeout(Duration.ofSeconds(5)));
        assertThat(ask(client)).isEqualTo("still here");

        List<Socket> silent = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                silent.add(new Socket("127.0.0.1", server.port())); // slowloris: connect, then say nothing
            }
            assertThat(ask(client)).isEqualTo("still here");

            // Every silent one is closed by the idle timeout; the pinging client keeps its connection.
            Await.until(Duration.ofSeconds(10), "silent connections shed", () -> server.connectionCount() == 1);
            assertThat(ask(client)).isEqualTo("still here");
        } finally {
            for (Socket socket : silent) {
                socket.close();
            }
        }
    }

    @Test
    void randomBytesFromManyPeersCloseOnlyTheirConnections() throws Exception {
        RpcServer server = cluster.server(s -> s.handle("echo", StringValue.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client();
        assertThat(ask(client)).isEqualTo("still here");
        SplittableRandom random = new SplittableRandom(42);

        for (int round = 0; round < 50; round++) {
            byte[] garbage = new byte[1 + random.nextInt(4096)];
            random.nextBytes(garbage);
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                out.write(garbage);
                out.flush();
                socket.shutdownOutput();
                // The server either closes on the garbage or waits for the rest of a plausible frame;
                // reading to the end (or the timeout) is all a hostile peer gets.
                try {
                    while (socket.getInputStream().read() >= 0) {
                        // drain whatever answer (an error frame) came
                    }
                } catch (java.net.SocketTimeoutException waitingForMore) {
                    // a plausible length prefix: the server waits for the frame's remaining bytes
                } catch (java.net.SocketException reset) {
                    // closed while unread garbage was still in flight: the kernel answers with a reset
                }
            }
            assertThat(ask(client)).as("after garbage round " + round).isEqualTo("still here");
        }
    }
}
