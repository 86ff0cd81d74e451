package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TcpProxyTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Test
    void forwardsBothWays() throws IOException {
        try (TcpProxy proxy = TcpProxy.to(redis.server().host(), redis.server().port());
                Socket socket = new Socket(proxy.host(), proxy.port())) {
            socket.setSoTimeout(5_000);
            assertThat(ping(socket)).isEqualTo("+PONG");
            assertThat(proxy.acceptedConnections()).isEqualTo(1);
            Await.until(Duration.ofSeconds(5), "one open connection", () -> proxy.openConnections() == 1);
        }
    }

    @Test
    void aBlackHoleIsSilentThenDeliversWhatItHeld() throws IOException {
        try (TcpProxy proxy = TcpProxy.to(redis.server().host(), redis.server().port());
                Socket socket = new Socket(proxy.host(), proxy.port())) {
            socket.setSoTimeout(5_000);
            assertThat(ping(socket)).isEqualTo("+PONG");

            proxy.blackhole();
            socket.setSoTimeout(300);
            send(socket, "PING\r\n");
            // No answer and no close: the client only learns of the cut by its own timeout.
            assertThatThrownBy(() -> readLine(socket.getInputStream())).isInstanceOf(SocketTimeoutException.class);
            assertThat(socket.isClosed()).isFalse();

            proxy.restore();
            socket.setSoTimeout(5_000);
            assertThat(readLine(socket.getInputStream())).isEqualTo("+PONG");
            assertThat(ping(socket)).isEqualTo("+PONG");
        }
    }

    @Test
    void newConnectionsDuringABlackHoleNeverReachTheUpstream() throws IOException {
        try (TcpProxy proxy = TcpProxy.to(redis.server().host(), redis.server().port())) {
            proxy.blackhole();
            try (Socket socket = new Socket(proxy.host(), proxy.port())) {
                socket.setSoTimeout(300);
                send(socket, "PING\r\n");
                assertThatThrownBy(() -> readLine(socket.getInputStream())).isInstanceOf(SocketTimeoutException.class);
                proxy.restore();
                socket.setSoTimeout(5_000);
                assertThat(readLine(socket.getInputStream())).isEqualTo("+PONG");
            }
        }
    }

    @Test
    void resetAllCutsOpenConnectionsAndCloseStopsListening() throws IOException {
        TcpProxy proxy = TcpProxy.to(redis.server().host(), redis.server().port());
        try (Socket socket = new Socket(proxy.host(), proxy.port())) {
            socket.setSoTimeout(5_000);
            assertThat(ping(socket)).isEqualTo("+PONG");
            proxy.resetAll();
            assertThatThrownBy(() -> {
                send(socket, "PING\r\n");
                if (readLine(socket.getInputStream()) == null) {
                    throw new IOException("end of stream");
                }
            }).isInstanceOf(IOException.class);
            try (Socket again = new Socket(proxy.host(), proxy.port())) {
                again.setSoTimeout(5_000);
                assertThat(ping(again)).isEqualTo("+PONG");
            }
        }
        int port = proxy.port();
        proxy.close();
        proxy.close(); // idempotent
        Await.until(java.time.Duration.ofSeconds(5), "the reset connections are gone", () -> proxy.openConnections() == 0);
        // The freed port may be taken at once by another process of this shared machine (a test's
        // redis-server, say): what must hold is that the proxy takes no connection after close().
        long acceptedBefore = proxy.acceptedConnections();
        try (Socket late = new Socket("127.0.0.1", port)) {
            late.setSoTimeout(200);
        } catch (IOException refused) {
            // nobody listens there: the usual case
        }
        assertThat(proxy.acceptedConnections()).as("connections the closed proxy accepted").isEqualTo(acceptedBefore);
    }

    private static String ping(Socket socket) throws IOException {
        send(socket, "PING\r\n");
        return readLine(socket.getInputStream());
    }

    private static void send(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                return line.toString().strip();
            }
            line.append((char) c);
        }
        return line.isEmpty() ? null : line.toString();
    }
}
