package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.ClientStats;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.Push;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the client does when a gateway breaks its promises, which a real gateway never does on
 * purpose: a scripted peer on a loopback socket, speaking the TCP frame protocol, repeats pushes,
 * skips some, then sends bytes that are not a frame. The client hands each number on once, reports
 * the gap, drops the connection it cannot read, and resumes from the last push it delivered.
 */
class GatewayClientPushOrderTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    /** One accepted connection of the scripted gateway: frames in and out. */
    record Peer(Socket socket, DataInputStream in, DataOutputStream out) {
        ClientFrame read() throws IOException {
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            return ClientFrame.parseFrom(frame);
        }

        void write(ServerFrame frame) throws IOException {
            writeRaw(frame.toByteArray());
        }

        void writeRaw(byte[] bytes) throws IOException {
            out.writeInt(bytes.length);
            out.write(bytes);
            out.flush();
        }
    }

    private static ServerFrame push(long seq) {
        return ServerFrame.newBuilder().setPush(Push.newBuilder().setPushSeq(seq)
                .setPayload(ByteString.copyFromUtf8("p" + seq))).build();
    }

    @Test
    void repeatedPushesAreDroppedAGapIsReportedAndGarbageEndsTheConnectionWhichIsResumed() throws Exception {
        try (ServerSocket gateway = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            BlockingQueue<Peer> peers = new LinkedBlockingQueue<>();
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        Socket socket = gateway.accept();
                        peers.add(new Peer(socket, new DataInputStream(socket.getInputStream()),
                                new DataOutputStream(socket.getOutputStream())));
                    }
                } catch (IOException e) {
                    // the test closed the listener
                }
            });
            List<Long> seqs = new CopyOnWriteArrayList<>();
            List<ClientEvent> events = new CopyOnWriteArrayList<>();
            try (GatewayClient client = GatewayClient.builder()
                    .addresses(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), gateway.getLocalPort())))
                    .credentials("player:kim".getBytes(StandardCharsets.UTF_8))
                    .reconnect(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(10))
                    .onPush((seq, payload) -> seqs.add(seq)).onEvent(events::add).build()) {
                client.connect();
                Peer first = peers.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(first).as("the client's connection").isNotNull();
                ClientFrame login = first.read();
                assertThat(login.getLogin().getCredentials().toStringUtf8()).isEqualTo("player:kim");
                first.write(ServerFrame.newBuilder().setLoginOk(LoginOk.newBuilder().setToken("player:kim")
                        .setSessionId("s-1").setResumeToken("secret-1")).build());
                for (long seq : new long[] {1, 2, 2, 1, 5, 6}) {
                    first.write(push(seq));
                }
                Await.until(WAIT, () -> "pushes 1, 2, 5, 6; got " + seqs, () -> seqs.size() == 4);
                assertThat(seqs).containsExactly(1L, 2L, 5L, 6L);
                assertThat(events).extracting(ClientEvent::type)
                        .containsExactly(ClientEvent.Type.CONNECTED, ClientEvent.Type.GAP);
                assertThat(events.get(1).detail()).isEqualTo("pushes 3..4 never arrived (got 5)");
                assertThat(client.stats()).isEqualTo(new ClientStats(4, 2, 1, 2, 0, 0, 0));

                // Bytes that are not a frame: the client cannot go on on this connection, so it drops
                // it and resumes with the last push it handed on.
                first.writeRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
                Peer second = peers.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(second).as("the client's reconnection").isNotNull();
                ClientFrame resume = second.read();
                assertThat(resume.hasResume()).as("%s", resume).isTrue();
                assertThat(resume.getResume().getResumeToken()).isEqualTo("secret-1");
                assertThat(resume.getResume().getLastPushSeq()).isEqualTo(6);
                assertThat(events).extracting(ClientEvent::type).containsExactly(ClientEvent.Type.CONNECTED,
                        ClientEvent.Type.GAP, ClientEvent.Type.DISCONNECTED);
                assertThat(events.get(2).detail()).containsIgnoringCase("protocol");
                first.socket().close();
                second.socket().close();
            }
        }
    }
}
