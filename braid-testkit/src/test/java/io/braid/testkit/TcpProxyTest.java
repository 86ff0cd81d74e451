package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TcpProxyTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Test
    void forwardsBothWays() throws IOException {
        try (TcpProxy proxy = toRedis();
                Socket socket = connect(proxy)) {
            assertThat(ping(socket)).isEqualTo("+PONG");
            assertThat(proxy.acceptedConnections()).isEqualTo(1);
            Await.until(Duration.ofSeconds(5), "one open connection", () -> proxy.openConnections() == 1);
        }
    }

    @Test
    void aBlackHoleIsSilentThenDeliversWhatItHeld() throws IOException {
        try (TcpProxy proxy = toRedis();
                Socket socket = connect(proxy)) {
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
        try (TcpProxy proxy = toRedis()) {
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
        TcpProxy proxy = toRedis();
        try (Socket socket = connect(proxy)) {
            assertThat(ping(socket)).isEqualTo("+PONG");
            proxy.resetAll();
            assertThatThrownBy(() -> {
                send(socket, "PING\r\n");
                if (readLine(socket.getInputStream()) == null) {
                    throw new IOException("end of stream");
                }
            }).isInstanceOf(IOException.class);
            try (Socket again = connect(proxy)) {
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

    @Test
    void closeAllEndsEveryConnectionWithAFinToBothEnds() throws IOException {
        try (ServerSocket upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                TcpProxy proxy = TcpProxy.to((InetSocketAddress) upstream.getLocalSocketAddress());
                Socket client = connect(proxy)) {
            assertThat(proxy.address()).isEqualTo(new InetSocketAddress(proxy.host(), proxy.port()));
            upstream.setSoTimeout(5_000);
            send(client, "hello\n");
            try (Socket server = upstream.accept()) {
                server.setSoTimeout(5_000);
                assertThat(readLine(server.getInputStream())).isEqualTo("hello");
                proxy.closeAll();
                // End of stream on both sides, not a reset (which a read reports as an exception).
                assertThat(server.getInputStream().read()).as("the upstream's read").isEqualTo(-1);
                assertThat(client.getInputStream().read()).as("the client's read").isEqualTo(-1);
            }
            Await.until(Duration.ofSeconds(5), "no open connection", () -> proxy.openConnections() == 0);
        }
    }

    @Test
    void aRefusingProxyClosesNewConnectionsAtOnceAndCountsThem() throws IOException {
        try (TcpProxy proxy = toRedis();
                Socket open = connect(proxy)) {
            assertThat(ping(open)).isEqualTo("+PONG");
            proxy.refuse(true);
            try (Socket refused = connect(proxy)) {
                assertThat(refused.getInputStream().read()).as("a refused connection's read").isEqualTo(-1);
            }
            assertThat(proxy.acceptedConnections()).isEqualTo(2);
            assertThat(ping(open)).as("the open connection is left alone").isEqualTo("+PONG");
            proxy.refuse(false);
            try (Socket again = connect(proxy)) {
                assertThat(ping(again)).isEqualTo("+PONG");
            }
        }
    }

    @Test
    void droppedBytesAreLostOneWayAndCountedWhileTheSocketsStayOpen() throws IOException {
        try (TcpProxy proxy = toRedis();
                Socket socket = connect(proxy)) {
            assertThat(ping(socket)).isEqualTo("+PONG");

            proxy.drop(TcpProxy.Direction.TO_UPSTREAM, true);
            send(socket, "INCR dropped\r\n");
            Await.until(Duration.ofSeconds(5), "the command to be dropped", () -> proxy.droppedBytes() == 14);
            proxy.drop(TcpProxy.Direction.TO_UPSTREAM, false);
            assertThat(command(socket, "GET dropped")).as("Redis never got the INCR").isEqualTo("$-1");

            proxy.drop(TcpProxy.Direction.TO_CLIENT, true);
            send(socket, "INCR dropped\r\n");
            Await.until(Duration.ofSeconds(5), "the answer to be dropped", () -> proxy.droppedBytes() == 14 + 4);
            proxy.drop(TcpProxy.Direction.TO_CLIENT, false);
            assertThat(command(socket, "GET dropped")).as("Redis ran it; its answer ':1' was lost").isEqualTo("$1");
            assertThat(readLine(socket.getInputStream())).isEqualTo("1");
            assertThat(socket.isClosed()).isFalse();
        }
    }

    @Test
    void silencedConnectionsPassNothingAndStayOpenWhileNewOnesPass() throws IOException {
        try (TcpProxy proxy = toRedis();
                Socket silenced = connect(proxy)) {
            assertThat(ping(silenced)).isEqualTo("+PONG");
            proxy.silenceAll();
            silenced.setSoTimeout(300);
            send(silenced, "PING\r\n");
            assertThatThrownBy(() -> readLine(silenced.getInputStream())).isInstanceOf(SocketTimeoutException.class);
            try (Socket fresh = connect(proxy)) {
                assertThat(ping(fresh)).isEqualTo("+PONG");
            }
            assertThat(proxy.droppedBytes()).isEqualTo(6);
            assertThat(silenced.isClosed()).isFalse();
            Await.until(Duration.ofSeconds(5), "the silenced connection still open", () -> proxy.openConnections() == 1);
        }
    }

    @Test
    void aTapSeesEveryByteThatPassesByConnectionAndDirection() throws IOException {
        record Seen(long connection, TcpProxy.Direction direction, String text) {
        }
        List<Seen> seen = new CopyOnWriteArrayList<>();
        InetSocketAddress upstream = redisAddress();
        try (TcpProxy proxy = TcpProxy.to(upstream, (connection, direction, bytes, offset, length) ->
                seen.add(new Seen(connection, direction, new String(bytes, offset, length, StandardCharsets.US_ASCII))))) {
            for (int i = 0; i < 2; i++) {
                try (Socket socket = connect(proxy)) {
                    assertThat(command(socket, "ECHO c" + i)).isEqualTo("$2");
                    assertThat(readLine(socket.getInputStream())).isEqualTo("c" + i);
                }
            }
            // Each chunk is seen before it is passed on: the answer after the command it answers.
            assertThat(String.join("", seen.stream().map(Seen::text).toList()))
                    .isEqualTo("ECHO c0\r\n$2\r\nc0\r\nECHO c1\r\n$2\r\nc1\r\n");
            assertThat(seen).extracting(Seen::connection, Seen::direction).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(1L, TcpProxy.Direction.TO_UPSTREAM),
                    org.assertj.core.groups.Tuple.tuple(1L, TcpProxy.Direction.TO_CLIENT),
                    org.assertj.core.groups.Tuple.tuple(2L, TcpProxy.Direction.TO_UPSTREAM),
                    org.assertj.core.groups.Tuple.tuple(2L, TcpProxy.Direction.TO_CLIENT));
        }
    }

    @Test
    void aTapThatThrowsResetsItsConnection() throws IOException {
        InetSocketAddress upstream = redisAddress();
        try (TcpProxy proxy = TcpProxy.to(upstream, (connection, direction, bytes, offset, length) -> {
            throw new IllegalStateException("not a frame");
        }); Socket socket = connect(proxy)) {
            assertThatThrownBy(() -> {
                if (ping(socket) == null) {
                    throw new IOException("end of stream");
                }
            }).isInstanceOf(IOException.class);
        }
    }

    private static TcpProxy toRedis() {
        return TcpProxy.to(redisAddress());
    }

    private static InetSocketAddress redisAddress() {
        return new InetSocketAddress(redis.server().host(), redis.server().port());
    }

    /** A connection through {@code proxy} whose reads give up after 5 s. */
    private static Socket connect(TcpProxy proxy) throws IOException {
        Socket socket = new Socket(proxy.host(), proxy.port());
        socket.setSoTimeout(5_000);
        return socket;
    }

    private static String command(Socket socket, String inline) throws IOException {
        send(socket, inline + "\r\n");
        return readLine(socket.getInputStream());
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
