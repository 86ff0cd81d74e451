package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Hostile HTTP at the monitor's server, from raw sockets: bad request lines and methods, huge
 * headers, traversal and encoded paths, bad query strings, bodies whose length lies, chunked
 * garbage, wrong bearer tokens, requests cut short and then dropped. The server never answers
 * 5xx or serves protected data without the token, either answers or closes, and serves good
 * requests after each one; afterwards no connection is left open and the heap after GC has not
 * grown beyond a margin.
 */
class MonitorHttpFuzzTest {
    private static final String TOKEN = "fuzz-monitor-token-0123456789";
    private static final Set<String> PUBLIC_PATHS = Set.of("/healthz", "/readyz", "/", "/index.html",
            "/dashboard.js", "/dashboard.css");
    private static TestCluster cluster;
    private static String base;
    private static int port;
    private static long heapBefore;
    private static long fdsBefore;

    @BeforeContainer
    static void start() {
        cluster = new TestCluster();
        TestCluster.TestNode node = cluster.start(TestCluster.Spec.of("gateway", "fuzz-1")
                .withHttp(MonitorOptions.port(0).withBearerToken(TOKEN)));
        base = node.baseUrl();
        port = node.monitoring.httpAddress().orElseThrow().getPort();
        assertThat(Http.get(base + "/healthz", null).statusCode()).isEqualTo(200);
        assertThat(Http.get(base + "/api/cluster", TOKEN).statusCode()).isEqualTo(200);
        heapBefore = heapAfterGc();
        fdsBefore = openFileDescriptors();
    }

    @AfterContainer
    static void stop() {
        try {
            // Good requests are served after the whole run.
            assertThat(Http.get(base + "/api/cluster", TOKEN).statusCode()).isEqualTo(200);
            assertThat(Http.get(base + "/metrics", TOKEN).statusCode()).isEqualTo(200);
            // Nothing held: every connection the fuzz opened is closed on the server's side too.
            Await.until(Duration.ofSeconds(20), () -> "open file descriptors back near " + fdsBefore + ", now "
                    + openFileDescriptors(), () -> openFileDescriptors() <= fdsBefore + 8);
            long grown = heapAfterGc() - heapBefore;
            System.out.printf("monitor fuzz: heap after GC grew by %,d bytes; file descriptors %d -> %d%n",
                    grown, fdsBefore, openFileDescriptors());
            assertThat(grown).as("heap growth after GC across the fuzz run").isLessThan(48L * 1024 * 1024);
        } finally {
            cluster.close();
        }
    }

    /** How a request is framed, and how the client leaves. */
    enum Ending { HALF_CLOSE_AND_READ, DROP_AFTER_WRITING, DROP_HALFWAY }

    record Hostile(String method, String target, List<String> headers, byte[] body, String version, Ending ending) {
        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes((method + " " + target + " " + version + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            for (String header : headers) {
                out.writeBytes((header + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(body);
            return out.toByteArray();
        }

        boolean mayBeServedWithoutToken() {
            String path;
            try {
                path = new QueryStringDecoder(target).path();
            } catch (RuntimeException undecodable) {
                return false;
            }
            return method.equals("GET") && PUBLIC_PATHS.contains(path);
        }

        @Override
        public String toString() {
            return new String(bytes(), 0, Math.min(bytes().length, 600), StandardCharsets.ISO_8859_1) + " [" + ending + "]";
        }
    }

    @Provide
    Arbitrary<Hostile> hostile() {
        Arbitrary<String> method = Arbitraries.oneOf(
                Arbitraries.of("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", "get"),
                Arbitraries.strings().withCharRange('!', '~').ofMinLength(0).ofMaxLength(20),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(5000));
        Arbitrary<String> path = Arbitraries.oneOf(
                Arbitraries.of("/", "/healthz", "/readyz", "/metrics", "/api/cluster", "/api/topics", "/api/tokens/",
                        "/api/tokens/p1", "/api/nodes/fuzz-1/drain", "/api/nodes/fuzz-1/weight", "/api/nodes//drain",
                        "/api/nodes/drain", "/dashboard.js", "/index.html", "*", "", "//", "http://evil/api/cluster",
                        "/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
                        "/dashboard.js/../../../../etc/passwd", "/%00", "/%", "/%zz", "/%e2%82", "/api/tokens/%ff%fe",
                        "/api/tokens/" + "x".repeat(3000), "/api/tokens/\u00e9\u00e8", "/\\..\\..\\windows"),
                Arbitraries.strings().withCharRange('!', '~').ofMinLength(0).ofMaxLength(200).map(s -> "/" + s),
                Arbitraries.strings().ofMinLength(0).ofMaxLength(100));
        Arbitrary<String> query = Arbitraries.oneOf(
                Arbitraries.just(""),
                Arbitraries.of("?", "?a", "?a=b&&&=", "?%", "?a=%zz", "?x=" + "y".repeat(5000), "?;;;", "?a=1#frag",
                        "?token=" + TOKEN, "?access_token=" + TOKEN, "?a[]=1&a[]=2"),
                Arbitraries.strings().withCharRange('!', '~').ofMaxLength(100).map(s -> "?" + s));
        Arbitrary<String> target = Combinators.combine(path, query).as((p, q) -> p + q);
        Arbitrary<String> header = Arbitraries.oneOf(
                Arbitraries.of("Host: 127.0.0.1", "Connection: close", "Connection: keep-alive",
                        "Content-Type: application/json", "Content-Type: application/x-www-form-urlencoded",
                        "Content-Length: 0", "Content-Length: 5", "Content-Length: 999999", "Content-Length: -1",
                        "Content-Length: 18446744073709551616", "Content-Length: abc", "Content-Length: 1, 2",
                        "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Transfer-Encoding: bogus",
                        "Expect: 100-continue", "Authorization: Bearer", "Authorization: Bearer ",
                        "Authorization: bearer " + TOKEN, "Authorization: " + TOKEN, "Authorization: Basic Zm9vOmJhcg==",
                        "Authorization: Bearer " + TOKEN + "x", "Authorization: Bearer " + TOKEN.substring(1),
                        "Authorization: Bearer  " + TOKEN, "Authorization: Bearer " + "A".repeat(10_000),
                        "Authorization:Bearer " + TOKEN + "\u0000", "X-Forwarded-For: 127.0.0.1",
                        "No colon here", ": no name", " leading-space: x", "X-Big: " + "b".repeat(20_000),
                        "X-Huge: " + "h".repeat(100_000)),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(300),
                Arbitraries.strings().ofMaxLength(100));
        Arbitrary<List<String>> headers = header.list().ofMaxSize(12);
        Arbitrary<byte[]> body = Arbitraries.oneOf(
                Arbitraries.just(new byte[0]),
                Arbitraries.of("{\"weight\": 5}", "{\"weight\": -1}", "{\"weight\": 1e99}", "{\"weight\":",
                        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                        "5\r\nhello\r\n0\r\n\r\n", "zz\r\nxx\r\n", "ffffffff\r\n", "{\"weight\": 99999999999999999999}")
                        .map(s -> s.getBytes(StandardCharsets.UTF_8)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(2000),
                Arbitraries.just(new byte[70_000]));
        Arbitrary<String> version = Arbitraries.oneOf(
                Arbitraries.of("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1 extra", "http/1.1", "", "HTTP/"),
                Arbitraries.strings().withCharRange('!', '~').ofMaxLength(12));
        Arbitrary<Ending> ending = Arbitraries.of(Ending.class);
        return Combinators.combine(method, target, headers, body, version, ending).as(Hostile::new);
    }

    @Property(tries = 400, shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
    void hostileRequestsGetA4xxOrAClosedConnectionAndGoodRequestsStillWork(@ForAll("hostile") Hostile request)
            throws IOException {
        String status = send(request);
        if (status != null) {
            assertThat(status).as("status line").startsWith("HTTP/1.");
            int code = Integer.parseInt(status.substring(9, 12));
            assertThat(code).as("a hostile request is never a server error").isLessThan(500);
            if (!request.mayBeServedWithoutToken()) {
                assertThat(code).as("no protected route answers without the token").isGreaterThanOrEqualTo(400);
            }
        }
        assertThat(Http.get(base + "/healthz", null).statusCode()).as("health after " + request.ending()).isEqualTo(200);
    }

    @Example
    void aRequestThatCannotBeParsedIsAnswered400AndTheConnectionCloses() throws IOException {
        List<String> malformed = List.of(
                "GET /healthz HTTP/1.1\r\nX-Huge: " + "h".repeat(100_000) + "\r\n\r\n",
                "GET /api/cluster HTTP/1.1\r\nAuthorization: Bearer " + TOKEN + "\r\nX-Huge: " + "h".repeat(100_000)
                        + "\r\n\r\n",
                "GET /" + "a".repeat(5_000) + " HTTP/1.1\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
                "GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        for (String request : malformed) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
                // No half-close: the server must answer and close on its own.
                InputStream in = socket.getInputStream();
                String status = firstLine(in);
                String shown = request.substring(0, Math.min(80, request.length()));
                assertThat(status).as("answer to " + shown).startsWith("HTTP/1.1 400");
                try {
                    while (in.read() >= 0) {
                        // the rest of the answer
                    }
                } catch (SocketTimeoutException stillOpen) {
                    throw new AssertionError("the connection stayed open after a malformed request: " + shown);
                } catch (SocketException reset) {
                    // closed with our unread bytes in flight
                }
            }
        }
        assertThat(Http.get(base + "/healthz", null).statusCode()).isEqualTo(200);
    }

    /** The first status line the server answered with, or null when it closed without one (or we left). */
    private static String send(Hostile request) throws IOException {
        byte[] bytes = request.bytes();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            try {
                if (request.ending() == Ending.DROP_HALFWAY) {
                    out.write(bytes, 0, bytes.length / 2);
                    out.flush();
                    return null;
                }
                out.write(bytes);
                out.flush();
                if (request.ending() == Ending.DROP_AFTER_WRITING) {
                    return null;
                }
                socket.shutdownOutput();
            } catch (SocketException closedWhileWriting) {
                return null; // the server refused early (a huge request) and closed: that is an answer too
            }
            return firstLine(socket.getInputStream());
        }
    }

    private static String firstLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                line.write(b);
            }
        } catch (SocketException reset) {
            // closed with unread bytes in flight: the kernel says so with a reset
        } catch (SocketTimeoutException hung) {
            throw new AssertionError("the server neither answered nor closed within 10 s");
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1).trim();
    }

    private static long heapAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        memory.gc();
        memory.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static long openFileDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
