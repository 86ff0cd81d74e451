package io.braid.testkit;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A tiny blocking RESP2 client over a plain socket (or TLS, for a server started with
 * {@link RedisServer.Builder#tls()}), for tests that must look at a Redis server
 * without going through the code under test: read {@code INFO commandstats}, check a key, send
 * {@code CLUSTER} commands. Get one from {@link RedisServer#probe()}.
 *
 * <p>The probe connects lazily, notices before each command when the server has closed the
 * connection, and reconnects after any I/O failure, so one probe follows a server that is killed
 * and restarted on its port. When the server has a password it sends {@code AUTH} on each new
 * connection. Strings travel as UTF-8. Methods are synchronized: one command at a time. The caller
 * owns the probe and closes it.
 */
public final class RedisProbe implements AutoCloseable {
    /** How long {@link #ping()} waits to connect and for the answer. */
    static final Duration PING_TIMEOUT = Duration.ofMillis(500);
    /** How long {@link #command} waits to connect and for the answer. */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);

    private final String host;
    private final int port;
    private final String password;
    /** Null for plain TCP. */
    private final SSLSocketFactory tls;

    private SocketChannel channel;
    private SSLSocket tlsSocket;
    private InputStream in;
    private OutputStream out;
    private boolean closed;

    RedisProbe(String host, int port, String password) {
        this(host, port, password, null);
    }

    RedisProbe(String host, int port, String password, SSLSocketFactory tls) {
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.password = password;
        this.tls = tls;
    }

    /**
     * Sends one command and returns its reply: a {@code String} for simple and bulk strings,
     * {@code Long} for integers, {@code List<Object>} for arrays (elements typed the same way; an
     * error inside an array, as from {@code EXEC}, is an {@link ErrorReply} element), {@code null}
     * for a null bulk string or array.
     *
     * @throws ErrorReply when the server answers with an error (the connection stays usable)
     * @throws UncheckedIOException when the server cannot be reached or does not answer within
     *         10 seconds (the connection is dropped; the next call reconnects)
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized Object command(String... args) {
        return call(COMMAND_TIMEOUT, args);
    }

    /** As {@link #command(String...)}, waiting at most {@code timeout} to connect and for the answer. */
    synchronized Object command(Duration timeout, String... args) {
        return call(timeout, args);
    }

    /**
     * The text of {@code INFO section} ({@code "server"}, {@code "persistence"},
     * {@code "commandstats"}, ...), lines separated by CRLF as Redis sends them.
     *
     * @throws ErrorReply when the server answers with an error
     * @throws UncheckedIOException when the server cannot be reached or does not answer in time
     */
    public synchronized String info(String section) {
        return (String) call(COMMAND_TIMEOUT, "INFO", Objects.requireNonNull(section, "section"));
    }

    /**
     * How many times each command has run since the server started (or since
     * {@code CONFIG RESETSTAT}), from {@code INFO commandstats}: {@code "get" -> 3}. Subcommands
     * appear as Redis names them ({@code "client|setname"}). The counts include this probe's own
     * commands ({@code auth}, {@code info}, ...), so compare before/after deltas of the commands
     * you care about. Immutable.
     *
     * @throws ErrorReply when the server answers with an error
     * @throws UncheckedIOException when the server cannot be reached or does not answer in time
     */
    public synchronized Map<String, Long> commandCalls() {
        Map<String, Long> calls = new LinkedHashMap<>();
        for (String line : info("commandstats").split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            int colon = line.indexOf(':');
            String name = line.substring("cmdstat_".length(), colon);
            for (String field : line.substring(colon + 1).split(",")) {
                if (field.startsWith("calls=")) {
                    calls.put(name, Long.parseLong(field.substring("calls=".length())));
                }
            }
        }
        return Collections.unmodifiableMap(calls);
    }

    /**
     * Whether the server answers {@code PING} with {@code PONG} within half a second. False, never
     * an exception, when it cannot be reached, is paused or answers with an error.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized boolean ping() {
        try {
            return "PONG".equals(call(PING_TIMEOUT, "PING"));
        } catch (UncheckedIOException | ErrorReply e) {
            return false;
        }
    }

    /** Closes the connection; the probe cannot be used afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        disconnect();
    }

    @Override
    public String toString() {
        return "RedisProbe[" + host + ":" + port + "]";
    }

    private Object call(Duration timeout, String... args) {
        if (closed) {
            throw new IllegalStateException("probe is closed: " + this);
        }
        try {
            connect(timeout);
            socket().setSoTimeout(Math.toIntExact(timeout.toMillis()));
            return roundTrip(args);
        } catch (IOException e) {
            disconnect(); // an unanswered request leaves the stream in an unknown state
            throw new UncheckedIOException("Redis at " + host + ":" + port + " did not answer "
                    + (args.length > 0 ? args[0] : "") + ": " + e.getMessage(), e);
        }
    }

    private Socket socket() {
        return tlsSocket != null ? tlsSocket : channel.socket();
    }

    private void connect(Duration timeout) throws IOException {
        if ((channel != null || tlsSocket != null) && isStale()) {
            disconnect();
        }
        if (channel != null || tlsSocket != null) {
            return;
        }
        if (tls != null) {
            connectTls(timeout);
            return;
        }
        SocketChannel fresh = SocketChannel.open();
        try {
            Socket socket = fresh.socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), Math.toIntExact(timeout.toMillis()));
            socket.setSoTimeout(Math.toIntExact(timeout.toMillis()));
            channel = fresh;
            in = new BufferedInputStream(socket.getInputStream());
            out = new BufferedOutputStream(socket.getOutputStream());
            if (password != null) {
                roundTrip("AUTH", password);
            }
        } catch (IOException | RuntimeException e) {
            disconnect();
            try {
                fresh.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void connectTls(Duration timeout) throws IOException {
        Socket plain = new Socket();
        try {
            plain.setTcpNoDelay(true);
            plain.connect(new InetSocketAddress(host, port), Math.toIntExact(timeout.toMillis()));
            plain.setSoTimeout(Math.toIntExact(timeout.toMillis()));
            SSLSocket fresh = (SSLSocket) tls.createSocket(plain, host, port, true);
            fresh.startHandshake();
            tlsSocket = fresh;
            in = new BufferedInputStream(fresh.getInputStream());
            out = new BufferedOutputStream(fresh.getOutputStream());
            if (password != null) {
                roundTrip("AUTH", password);
            }
        } catch (IOException | RuntimeException e) {
            disconnect();
            try {
                plain.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Whether the open connection is no use: the server closed it (it was stopped, killed or
     * restarted since) or sent bytes nobody asked for. Checked without blocking before each
     * command, so the first command after a restart goes to the new server instead of failing.
     */
    private boolean isStale() {
        try {
            if (in.available() > 0) {
                return true;
            }
            if (tlsSocket != null) {
                return isStaleTls();
            }
            channel.configureBlocking(false);
            try {
                return channel.read(ByteBuffer.allocate(1)) != 0;
            } finally {
                channel.configureBlocking(true);
            }
        } catch (IOException e) {
            return true;
        }
    }

    /** TLS has no non-blocking peek: a read that times out at once means nothing is waiting. */
    private boolean isStaleTls() throws IOException {
        int before = tlsSocket.getSoTimeout();
        tlsSocket.setSoTimeout(1);
        try {
            in.read(); // a byte nobody asked for, or the end of the stream
            return true;
        } catch (SocketTimeoutException quiet) {
            return false;
        } finally {
            tlsSocket.setSoTimeout(before);
        }
    }

    private Object roundTrip(String... args) throws IOException {
        write(args);
        Object reply = read();
        if (reply instanceof ErrorReply error) {
            throw new ErrorReply(error.getMessage()); // fresh stack trace: the caller's
        }
        return reply;
    }

    private void write(String... args) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        ascii(buffer, "*" + args.length + "\r\n");
        for (String arg : args) {
            byte[] bytes = Objects.requireNonNull(arg, "command arguments must not be null")
                    .getBytes(StandardCharsets.UTF_8);
            ascii(buffer, "$" + bytes.length + "\r\n");
            buffer.write(bytes);
            ascii(buffer, "\r\n");
        }
        buffer.writeTo(out);
        out.flush();
    }

    private static void ascii(ByteArrayOutputStream buffer, String text) {
        buffer.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
    }

    private Object read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed by the server");
        }
        String line = readLine();
        switch (type) {
            case '+':
                return line;
            case '-':
                return new ErrorReply(line);
            case ':':
                return number(line);
            case '$': {
                int length = Math.toIntExact(number(line));
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length);
                if (bytes.length < length || in.read() != '\r' || in.read() != '\n') {
                    throw new EOFException("bulk string cut short");
                }
                return new String(bytes, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Math.toIntExact(number(line));
                if (count < 0) {
                    return null;
                }
                List<Object> elements = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    elements.add(read());
                }
                return Collections.unmodifiableList(elements);
            }
            default:
                throw new IOException("not a RESP2 reply, type byte " + type);
        }
    }

    private static long number(String line) throws IOException {
        try {
            return Long.parseLong(line);
        } catch (NumberFormatException e) {
            throw new IOException("not a RESP2 number: " + line, e);
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\r') {
            if (b < 0) {
                throw new EOFException("connection closed by the server");
            }
            line.write(b);
        }
        if (in.read() != '\n') {
            throw new IOException("line not ended by CRLF");
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    private void disconnect() {
        if (tlsSocket != null) {
            try {
                tlsSocket.close();
            } catch (IOException e) {
                // closing a broken connection; nothing to do
            }
            tlsSocket = null;
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // closing a broken connection; nothing to do
            }
        }
        channel = null;
        in = null;
        out = null;
    }

    /**
     * An error reply from Redis. {@link #getMessage()} is the whole error line, e.g.
     * {@code "NOAUTH Authentication required."}; {@link #prefix()} is its first word.
     */
    public static final class ErrorReply extends RuntimeException {
        /** An error reply carrying the line Redis sent, without the leading {@code -}. */
        public ErrorReply(String line) {
            super(Objects.requireNonNull(line, "line"));
        }

        /** The error's kind: the first word of the line ({@code "NOAUTH"}, {@code "MOVED"}, {@code "ERR"}...). */
        public String prefix() {
            String line = getMessage();
            int space = line.indexOf(' ');
            return space < 0 ? line : line.substring(0, space);
        }
    }
}
