package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Code;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Garbage, oversized frames, frames out of order and silent sockets: each gets an Error frame
 * and/or a close, the gateway lives, and a player logged in meanwhile keeps playing.
 */
class HostileFramesTest {
    static final int MAX_FRAME = 1024;
    static final Duration IDLE = Duration.ofMillis(600);

    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final GatewayFixture.GatewayNode gateway = cluster.gateway("gateway-1",
            builder -> builder.maxFrameBytes(MAX_FRAME).idleTimeout(IDLE).loginTimeout(Duration.ofSeconds(2)));
    private TestClient bystander;

    private final ScheduledExecutorService keepAlive = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void aPlayerIsPlaying() {
        bystander = TestClient.webSocket(gateway.ws(), false);
        assertThat(bystander.login("player:bystander").hasLoginOk()).isTrue();
        // The bystander pings well within the idle timeout, as a real client does.
        keepAlive.scheduleAtFixedRate(() -> bystander.ping(0), 100, 100, TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void close() throws Exception {
        keepAlive.shutdownNow();
        keepAlive.awaitTermination(5, TimeUnit.SECONDS);
        try {
            bystander.close();
        } finally {
            cluster.close();
        }
    }

    private void bystanderStillPlays() {
        assertThat(bystander.call("logic.player.act", "still").getCode()).isZero();
        bystander.ping(1);
    }

    @Test
    void randomBytesOverTcpCloseOnlyThatConnection() throws Exception {
        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            try (TestClient.Tcp hostile = (TestClient.Tcp) TestClient.tcp(gateway.tcp())) {
                byte[] garbage = new byte[1 + random.nextInt(2048)];
                random.nextBytes(garbage);
                hostile.raw(garbage);
                hostile.awaitClosed(); // an Error frame and a close, or the idle timeout for a partial frame
            }
            bystander.ping(i);
        }
        bystanderStillPlays();
        assertThat(cluster.boundTo("player:bystander")).isEqualTo("gateway-1");
    }

    @Test
    void bytesThatAreNotAFrameGetInvalidArgumentAndAClose() throws Exception {
        try (TestClient.Tcp hostile = (TestClient.Tcp) TestClient.tcp(gateway.tcp())) {
            hostile.raw(ByteBuffer.allocate(8).putInt(4).put(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff,
                    (byte) 0xff}).array());
            ServerFrame error = hostile.await(ServerFrame::hasError, "an error");
            assertThat(error.getError().getCode()).isEqualTo(Code.INVALID_ARGUMENT.value());
            assertThat(error.getError().getMessage()).contains("not a client frame");
            hostile.awaitClosed();
        }
        bystanderStillPlays();
    }

    @Test
    void anOversizedTcpFrameGetsResourceExhaustedAndAClose() throws Exception {
        try (TestClient.Tcp hostile = (TestClient.Tcp) TestClient.tcp(gateway.tcp())) {
            hostile.login("player:big");
            hostile.raw(ByteBuffer.allocate(4).putInt(MAX_FRAME + 1).array());
            ServerFrame error = hostile.await(ServerFrame::hasError, "an error");
            assertThat(error.getError().getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
            assertThat(error.getError().getMessage()).contains("maxFrameBytes").contains(String.valueOf(MAX_FRAME));
            hostile.awaitClosed();
        }
        Await.until(TestClient.WAIT, "the oversized player's binding to go", () -> cluster.boundTo("player:big") == null);
        bystanderStillPlays();
    }

    @Test
    void anOversizedWebSocketMessageClosesWith1009() {
        try (TestClient.Ws hostile = (TestClient.Ws) TestClient.webSocket(gateway.ws(), false)) {
            hostile.sendRaw(new byte[MAX_FRAME + 1]);
            hostile.awaitClosed();
            assertThat(hostile.closeStatus).startsWith("1009");
        }
        bystanderStillPlays();
    }

    @Test
    void garbageWebSocketMessagesGetInvalidArgumentAndAClose() {
        try (TestClient.Ws binary = (TestClient.Ws) TestClient.webSocket(gateway.ws(), false);
             TestClient.Ws text = (TestClient.Ws) TestClient.webSocket(gateway.ws(), true)) {
            binary.sendRaw(new byte[] {(byte) 0xff, 0x01, 0x02});
            text.sendRawText("{\"login\": 12, \"nonsense\": true");
            for (TestClient hostile : new TestClient[] {binary, text}) {
                ServerFrame error = hostile.await(ServerFrame::hasError, "an error");
                assertThat(error.getError().getCode()).isEqualTo(Code.INVALID_ARGUMENT.value());
                hostile.awaitClosed();
            }
        }
        bystanderStillPlays();
    }

    @Test
    void aHalfOpenSocketIsClosedByTheIdleTimeout() throws Exception {
        try (Socket silent = new Socket(gateway.tcp().getAddress(), gateway.tcp().getPort())) {
            InputStream in = silent.getInputStream();
            // Nothing is sent; the gateway must end the connection: read its Error frame, then end of stream.
            Await.until(TestClient.WAIT, "the gateway to close the silent socket", () -> readsToEnd(in));
            bystander.ping(2); // the bystander's pings keep it past the idle timeout
        }
        bystanderStillPlays();
    }

    @Test
    void aLoggedInPlayerWhoFallsSilentIsClosedAndUnbound() {
        try (TestClient quiet = TestClient.tcp(gateway.tcp())) {
            quiet.login("player:quiet");
            ServerFrame error = quiet.await(ServerFrame::hasError, "the idle error");
            assertThat(error.getError().getCode()).isEqualTo(Code.DEADLINE_EXCEEDED.value());
            assertThat(error.getError().getMessage()).contains("idle timeout");
            quiet.awaitClosed();
        }
        Await.until(TestClient.WAIT, "the silent player's binding to go", () -> cluster.boundTo("player:quiet") == null);
        assertThat(cluster.eventsOf("player:quiet")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
    }

    @Test
    void aConnectionThatPingsButNeverLogsInIsClosedByTheLoginTimeout() throws Exception {
        try (TestClient pinger = TestClient.tcp(gateway.tcp())) {
            long nonce = 0;
            while (!pinger.isClosed() && nonce < 1000) {
                pinger.ping(++nonce);
                long answered = nonce;
                pinger.await(frame -> (frame.hasPong() && frame.getPong().getNonce() == answered) || frame.hasError(),
                        "a pong");
                bystander.ping(nonce);
                Await.poll(Duration.ofMillis(100), pinger::isClosed);
            }
            ServerFrame error = pinger.await(ServerFrame::hasError, "the login timeout error");
            assertThat(error.getError().getCode()).isEqualTo(Code.DEADLINE_EXCEEDED.value());
            assertThat(error.getError().getMessage()).contains("login timeout");
        }
        bystanderStillPlays();
    }

    private static boolean readsToEnd(InputStream in) {
        try {
            byte[] buffer = new byte[256];
            while (in.read(buffer) >= 0) {
                // the Error frame; keep reading until the close
            }
            return true;
        } catch (IOException e) {
            return true;
        }
    }

}
