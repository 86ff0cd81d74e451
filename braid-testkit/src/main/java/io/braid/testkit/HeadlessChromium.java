package io.braid.testkit;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
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
 * WebSocket client: what the browser tests of the dashboard, the gateway's JavaScript client and
 * the demo's player page need (navigate, evaluate, screenshot). Each instance has a fresh profile
 * in a temporary directory; {@link #close()} kills the browser and every process it started and
 * deletes the profile.
 *
 * <pre>{@code
 * try (HeadlessChromium page = HeadlessChromium.open("http://127.0.0.1:8081/")) {
 *     Await.until(WAIT, "the page logs in", () -> "true".equals(page.evaluate("window.loggedIn")));
 * }
 * }</pre>
 */
public final class HeadlessChromium implements AutoCloseable {
    /** Where Debian's package puts it ({@code apt-get install chromium}; {@code .ci/run} does this). */
    public static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Gson GSON = new Gson();

    private final Path profile;
    private final Process process;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private WebSocket devtools;

    private HeadlessChromium(Path profile, Process process) {
        this.profile = profile;
        this.process = process;
    }

    /** Whether Chromium is installed where this class looks for it. */
    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /** Starts Chromium on {@code url} in a 900 x 1000 window and connects to that page. */
    public static HeadlessChromium open(String url) throws IOException {
        return open(url, 900, 1000);
    }

    /**
     * Starts Chromium on {@code url} in a {@code width} x {@code height} window and connects to
     * that page's DevTools endpoint.
     *
     * @throws AssertionError when Chromium is not installed (the message says what to install)
     */
    public static HeadlessChromium open(String url, int width, int height) throws IOException {
        if (!installed()) {
            throw new AssertionError(BINARY + " is missing (apt-get install chromium; .ci/run does this)");
        }
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("window size must be positive, was " + width + " x " + height);
        }
        Path profile = Files.createTempDirectory("braid-chromium-");
        Process process;
        try {
            process = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                    "--window-size=" + width + "," + height, url)
                    .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        } catch (IOException e) {
            deleteTree(profile);
            throw e;
        }
        HeadlessChromium chromium = new HeadlessChromium(profile, process);
        try {
            chromium.connect(url);
            return chromium;
        } catch (RuntimeException | Error e) {
            chromium.close();
            throw e;
        }
    }

    private void connect(String url) {
        Path portFile = profile.resolve("DevToolsActivePort");
        Await.until(TIMEOUT, () -> "Chromium writes " + portFile + "; its log:\n" + log(),
                () -> process.isAlive() && Files.exists(portFile) && readLines(portFile).size() >= 2);
        int port = Integer.parseInt(readLines(portFile).get(0).trim());
        String[] page = new String[1];
        Await.until(TIMEOUT, "Chromium lists the page " + url, () -> (page[0] = pageSocket(port, url)) != null);
        devtools = http.newWebSocketBuilder().buildAsync(URI.create(page[0]), new Listener()).join();
    }

    /** The DevTools WebSocket of the page showing {@code url}, or null while there is none. */
    private String pageSocket(int port, String url) {
        try {
            String targets = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            for (JsonElement target : JsonParser.parseString(targets).getAsJsonArray()) {
                JsonObject fields = target.getAsJsonObject();
                if ("page".equals(fields.get("type").getAsString()) && fields.get("url").getAsString().startsWith(url)
                        && fields.has("webSocketDebuggerUrl")) {
                    return fields.get("webSocketDebuggerUrl").getAsString();
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

    /** Opens {@code url} in the page (it need not be loaded when this returns: await what it shows). */
    public void navigate(String url) {
        call("Page.enable", new JsonObject());
        JsonObject params = new JsonObject();
        params.addProperty("url", url);
        call("Page.navigate", params);
    }

    /**
     * Evaluates {@code expression} in the page, awaiting it if it is a promise, and returns its
     * value as Java sees JSON: {@code Long} for whole numbers, {@code Double} for others, {@code
     * String}, {@code Boolean}, {@code List}, {@code Map}, or null (also for undefined).
     *
     * @throws IllegalStateException when the page throws
     */
    public Object eval(String expression) {
        JsonObject params = new JsonObject();
        params.addProperty("expression", expression);
        params.addProperty("returnByValue", true);
        params.addProperty("awaitPromise", true);
        JsonObject result = call("Runtime.evaluate", params);
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException("the page threw on " + expression + ": " + result.get("exceptionDetails"));
        }
        JsonElement value = result.getAsJsonObject("result").get("value");
        return value == null ? null : toJava(value);
    }

    /** The value of {@code expression} as JavaScript's {@code String(value)} writes it (so "undefined", "null"). */
    public String evaluate(String expression) {
        return (String) eval("String(" + expression + ")");
    }

    /**
     * The value of {@code expression}, awaited if it is a promise, as JSON ({@code JSON.stringify});
     * "undefined" for undefined.
     */
    public String evaluateJson(String expression) {
        Object json = eval("(async () => JSON.stringify(await (" + expression + ")))()");
        return json == null ? "undefined" : (String) json;
    }

    /** Saves a PNG of the whole page, also beyond the window. */
    public void screenshot(Path file) throws IOException {
        JsonObject params = new JsonObject();
        params.addProperty("format", "png");
        params.addProperty("captureBeyondViewport", true);
        JsonObject result = call("Page.captureScreenshot", params);
        Path absolute = file.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        Files.write(absolute, Base64.getDecoder().decode(result.get("data").getAsString()));
    }

    /** What Chromium printed so far (for failure messages). */
    public String log() {
        try {
            return Files.readString(profile.resolve("chromium.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private JsonObject call(String method, JsonObject params) {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonObject> answer = new CompletableFuture<>();
        pending.put(id, answer);
        JsonObject request = new JsonObject();
        request.addProperty("id", id);
        request.addProperty("method", method);
        request.add("params", params);
        try {
            devtools.sendText(GSON.toJson(request), true).join();
            JsonObject response = answer.orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
            if (response.has("error")) {
                throw new IllegalStateException(method + " failed: " + response.get("error"));
            }
            return response.getAsJsonObject("result");
        } finally {
            pending.remove(id);
        }
    }

    private static Object toJava(JsonElement json) {
        if (json.isJsonNull()) {
            return null;
        }
        if (json instanceof JsonPrimitive primitive) {
            if (primitive.isBoolean()) {
                return primitive.getAsBoolean();
            }
            if (primitive.isString()) {
                return primitive.getAsString();
            }
            BigDecimal number = primitive.getAsBigDecimal();
            try {
                return number.longValueExact();
            } catch (ArithmeticException notWhole) {
                return number.doubleValue();
            }
        }
        if (json instanceof JsonArray array) {
            List<Object> list = new ArrayList<>(array.size());
            array.forEach(element -> list.add(toJava(element)));
            return list;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        json.getAsJsonObject().entrySet().forEach(entry -> map.put(entry.getKey(), toJava(entry.getValue())));
        return map;
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                JsonObject message = JsonParser.parseString(partial.toString()).getAsJsonObject();
                partial.setLength(0);
                JsonElement id = message.get("id");
                CompletableFuture<JsonObject> answer = id == null ? null : pending.get(id.getAsInt());
                if (answer != null) {
                    answer.complete(message);
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

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // best effort: it is a temporary directory
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
        deleteTree(profile);
    }
}
