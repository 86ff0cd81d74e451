package io.braid.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.braid.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Debian's Chromium, headless, on one page, driven through the DevTools protocol over the JDK's
 * WebSocket client (messages read and written with protobuf's JSON mapping of {@link Struct}). A
 * fresh profile in a temporary directory; {@link #close()} kills the browser and its children and
 * deletes the profile. (The same approach as the examples' and braid-monitor's test helpers; modules
 * do not share test code.)
 */
final class HeadlessChromium implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final Path profile;
    private final Process process;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<Integer, CompletableFuture<Struct>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private WebSocket devtools;

    private HeadlessChromium(Path profile, Process process) {
        this.profile = profile;
        this.process = process;
    }

    /** Starts Chromium on {@code url} and connects to that page's DevTools endpoint. */
    static HeadlessChromium open(String url) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError(BINARY + " is missing (apt-get install chromium; .ci/run does this)");
        }
        Path profile = Files.createTempDirectory("braid-gateway-chromium-");
        Process process = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", url)
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        HeadlessChromium chromium = new HeadlessChromium(profile, process);
        try {
            chromium.connect(url);
            return chromium;
        } catch (RuntimeException | IOException e) {
            chromium.close();
            throw e;
        }
    }

    private void connect(String url) throws IOException {
        Path portFile = profile.resolve("DevToolsActivePort");
        Await.until(TIMEOUT, () -> "Chromium writes " + portFile + "; its log:\n" + log(),
                () -> process.isAlive() && Files.exists(portFile) && readLines(portFile).size() >= 2);
        int port = Integer.parseInt(readLines(portFile).get(0).trim());
        String[] page = new String[1];
        Await.until(TIMEOUT, "Chromium lists the page " + url, () -> (page[0] = pageSocket(port, url)) != null);
        devtools = http.newWebSocketBuilder().buildAsync(URI.create(page[0]), new Listener()).join();
    }

    private String pageSocket(int port, String url) {
        try {
            String targets = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            ListValue.Builder list = ListValue.newBuilder();
            JsonFormat.parser().merge(targets, list);
            for (Value target : list.getValuesList()) {
                Map<String, Value> fields = target.getStructValue().getFieldsMap();
                if (fields.get("type").getStringValue().equals("page")
                        && fields.get("url").getStringValue().startsWith(url)) {
                    return fields.get("webSocketDebuggerUrl").getStringValue();
                }
            }
            return null;
        } catch (IOException e) {
            return null; // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Evaluates {@code expression} in the page, awaiting it if it is a promise, and returns its value
     * as JSON ({@code JSON.stringify}).
     */
    String evaluate(String expression) {
        Struct result = call("Runtime.evaluate", Struct.newBuilder()
                .putFields("expression", string("(async () => JSON.stringify(await (" + expression + ")))()"))
                .putFields("awaitPromise", Value.newBuilder().setBoolValue(true).build())
                .putFields("returnByValue", Value.newBuilder().setBoolValue(true).build()).build());
        if (result.containsFields("exceptionDetails")) {
            throw new IllegalStateException("the page threw on " + expression + ": "
                    + result.getFieldsOrThrow("exceptionDetails"));
        }
        Value value = result.getFieldsOrThrow("result").getStructValue().getFieldsMap().get("value");
        return value == null ? "undefined" : value.getStringValue();
    }

    private Struct call(String method, Struct params) {
        int id = ids.incrementAndGet();
        CompletableFuture<Struct> answer = new CompletableFuture<>();
        pending.put(id, answer);
        Struct request = Struct.newBuilder().putFields("id", Value.newBuilder().setNumberValue(id).build())
                .putFields("method", string(method))
                .putFields("params", Value.newBuilder().setStructValue(params).build()).build();
        try {
            devtools.sendText(JsonFormat.printer().omittingInsignificantWhitespace().print(request), true).join();
            Struct response = answer.orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
            if (response.containsFields("error")) {
                throw new IllegalStateException(method + " failed: " + response.getFieldsOrThrow("error"));
            }
            return response.getFieldsOrThrow("result").getStructValue();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(e);
        } finally {
            pending.remove(id);
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                Struct.Builder message = Struct.newBuilder();
                try {
                    JsonFormat.parser().ignoringUnknownFields().merge(partial.toString(), message);
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalStateException("not a DevTools message: " + partial, e);
                }
                partial.setLength(0);
                Value id = message.getFieldsMap().get("id");
                CompletableFuture<Struct> answer = id == null ? null : pending.get((int) id.getNumberValue());
                if (answer != null) {
                    answer.complete(message.build());
                }
            }
            socket.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            pending.values().forEach(answer -> answer.completeExceptionally(error));
        }
    }

    String log() {
        try {
            return Files.readString(profile.resolve("chromium.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static Value string(String value) {
        return Value.newBuilder().setStringValue(value).build();
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills Chromium and every process it started, and deletes the profile. */
    @Override
    public void close() {
        if (devtools != null) {
            devtools.abort();
        }
        List<ProcessHandle> tree = Stream.concat(Stream.of(process.toHandle()), process.descendants()).toList();
        tree.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle handle : tree) {
            handle.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(timeout -> null).join();
        }
        http.close();
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // best effort: it is a temporary directory
        }
    }
}
