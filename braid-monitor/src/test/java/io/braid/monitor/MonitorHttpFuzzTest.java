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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile HTTP at the monitor's server, from raw sockets: bad request lines and methods, huge
 * headers, traversal and encoded paths, bad query strings, bodies whose length lies, chunked
 * garbage, wrong bearer tokens, requests cut short and then dropped. The server never answers
 * 5xx or serves protected data without the token, either answers or closes, and serves good
 * requests after each one; afterwards no connection is left open and the heap after GC has not
 * grown beyond a margin.
 *
 * <p>The hostile requests come from a fixed seed, so every run sends the same ones; a failure names
 * the seed of the request that failed and the request, and {@code hostile(new SplittableRandom(seed))}
 * makes it again.
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

    @BeforeAll
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

    @AfterAll
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

    /**
     * A hostile request. Each part is drawn from one of its kinds with equal chance: the method a
     * known one, printable junk up to 20 characters or any text up to 5,000; the path a known hostile
     * one, "/" and printable junk up to 200, or any text up to 100; the query none, a known hostile
     * one or "?" and printable junk up to 100; up to 12 headers, each a known hostile one, printable
     * junk up to 300 or any text up to 100; the body none, a known hostile one, random bytes up to
     * 2,000 or 70,000 zeros; the version a known one or printable junk up to 12; and any ending.
     */
    static Hostile hostile(SplittableRandom random) {
        String method = switch (random.nextInt(3)) {
            case 0 -> pick(random, "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", "get");
            case 1 -> printable(random, '!', 0, 20);
            default -> anyText(random, 1, 5000);
        };
        String path = switch (random.nextInt(3)) {
            case 0 -> pick(random, "/", "/healthz", "/readyz", "/metrics", "/api/cluster", "/api/topics", "/api/tokens/",
                    "/api/tokens/p1", "/api/nodes/fuzz-1/drain", "/api/nodes/fuzz-1/weight", "/api/nodes//drain",
                    "/api/nodes/drain", "/dashboard.js", "/index.html", "*", "", "//", "http://evil/api/cluster",
                    "/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
                    "/dashboard.js/../../../../etc/passwd", "/%00", "/%", "/%zz", "/%e2%82", "/api/tokens/%ff%fe",
                    "/api/tokens/" + "x".repeat(3000), "/api/tokens/\u00e9\u00e8", "/\\..\\..\\windows");
            case 1 -> "/" + printable(random, '!', 0, 200);
            default -> anyText(random, 0, 100);
        };
        String query = switch (random.nextInt(3)) {
            case 0 -> "";
            case 1 -> pick(random, "?", "?a", "?a=b&&&=", "?%", "?a=%zz", "?x=" + "y".repeat(5000), "?;;;", "?a=1#frag",
                    "?token=" + TOKEN, "?access_token=" + TOKEN, "?a[]=1&a[]=2");
            default -> "?" + printable(random, '!', 0, 100);
        };
        List<String> headers = new ArrayList<>();
        for (int count = size(random, 0, 12), i = 0; i < count; i++) {
            headers.add(switch (random.nextInt(3)) {
                case 0 -> pick(random, "Host: 127.0.0.1", "Connection: close", "Connection: keep-alive",
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
                        "X-Huge: " + "h".repeat(100_000));
                case 1 -> printable(random, ' ', 0, 300);
                default -> anyText(random, 0, 100);
            });
        }
        byte[] body = switch (random.nextInt(4)) {
            case 0 -> new byte[0];
            case 1 -> pick(random, "{\"weight\": 5}", "{\"weight\": -1}", "{\"weight\": 1e99}", "{\"weight\":",
                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                    "5\r\nhello\r\n0\r\n\r\n", "zz\r\nxx\r\n", "ffffffff\r\n", "{\"weight\": 99999999999999999999}")
                    .getBytes(StandardCharsets.UTF_8);
            case 2 -> randomBytes(random, 0, 2000);
            default -> new byte[70_000];
        };
        String version = random.nextBoolean()
                ? pick(random, "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1 extra", "http/1.1", "", "HTTP/")
                : printable(random, '!', 0, 12);
        Ending ending = Ending.values()[random.nextInt(Ending.values().length)];
        return new Hostile(method, path + query, headers, body, version, ending);
    }

    @Test
    void hostileRequestsGetA4xxOrAClosedConnectionAndGoodRequestsStillWork() throws IOException {
        long seed = 0x510E527FADE682D1L;
        int tries = 400;
        for (int n = 0; n < tries; n++) {
            long requestSeed = seed + n;
            Hostile request = hostile(new SplittableRandom(requestSeed));
            try {
                checkHostile(request);
            } catch (IOException | RuntimeException | AssertionError failure) {
                throw new AssertionError("request " + (n + 1) + " of " + tries + " failed (hostile(new SplittableRandom("
                        + requestSeed + "L)) makes it again): " + request, failure);
            }
        }
    }

    private static void checkHostile(Hostile request) throws IOException {
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

    @Test
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

    @SafeVarargs
    private static <T> T pick(SplittableRandom random, T... choices) {
        return choices[random.nextInt(choices.length)];
    }

    /**
     * A length in [min, max]: one time in eight an edge (min, min + 1, max), half the time a short
     * one (up to 16 above min), else anywhere in the range.
     */
    private static int size(SplittableRandom random, int min, int max) {
        int roll = random.nextInt(8);
        if (roll == 0) {
            return pick(random, min, Math.min(min + 1, max), max);
        }
        if (roll <= 4) {
            return min + random.nextInt(Math.min(max - min, 16) + 1);
        }
        return min + random.nextInt(max - min + 1);
    }

    /** Characters from {@code first} to '~'; one string in ten is one character over and over. */
    private static String printable(SplittableRandom random, char first, int minLength, int maxLength) {
        int length = size(random, minLength, maxLength);
        boolean repeated = random.nextInt(10) == 0;
        StringBuilder text = new StringBuilder(length);
        char c = (char) random.nextInt(first, '~' + 1);
        for (int i = 0; i < length; i++) {
            text.append(c);
            if (!repeated) {
                c = (char) random.nextInt(first, '~' + 1);
            }
        }
        return text.toString();
    }

    /**
     * Any UTF-16 text but private-use characters and noncharacters: controls, CR, LF, NUL, Latin-1,
     * the whole BMP, lone surrogates; one string in ten is one character over and over.
     */
    private static String anyText(SplittableRandom random, int minLength, int maxLength) {
        int length = size(random, minLength, maxLength);
        boolean repeated = random.nextInt(10) == 0;
        StringBuilder text = new StringBuilder(length);
        char c = anyChar(random);
        for (int i = 0; i < length; i++) {
            text.append(c);
            if (!repeated) {
                c = anyChar(random);
            }
        }
        return text.toString();
    }

    private static final char[] EDGE_CHARS = {0, '\r', '\n', ' ', ':', '%', '/', 0x7F, 0xFF, 0xD800, 0xDFFF, 0xFFFD};

    private static char anyChar(SplittableRandom random) {
        return switch (random.nextInt(8)) {
            case 0 -> EDGE_CHARS[random.nextInt(EDGE_CHARS.length)];
            case 1, 2 -> (char) random.nextInt(0x80);
            case 3 -> (char) random.nextInt(0x80, 0x100);
            default -> {
                char c;
                do {
                    c = (char) random.nextInt(0x10000);
                } while ((c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFDD0 && c <= 0xFDEF) || c >= 0xFFFE);
                yield c;
            }
        };
    }

    /** Random bytes; one array in eight is one byte over and over. */
    private static byte[] randomBytes(SplittableRandom random, int minSize, int maxSize) {
        byte[] bytes = new byte[size(random, minSize, maxSize)];
        if (random.nextInt(8) == 0) {
            java.util.Arrays.fill(bytes, pick(random, (byte) 0, (byte) 1, (byte) -1, Byte.MAX_VALUE, Byte.MIN_VALUE,
                    (byte) '\r', (byte) '\n'));
        } else {
            random.nextBytes(bytes);
        }
        return bytes;
    }
}
