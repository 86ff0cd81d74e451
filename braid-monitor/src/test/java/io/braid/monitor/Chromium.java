package io.braid.monitor;

import io.braid.testkit.Await;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven over the DevTools protocol: the browser is started with
 * {@code --remote-debugging-port=0}, its port read from {@code DevToolsActivePort} in a fresh
 * profile directory, and the page's DevTools WebSocket spoken with Netty's WebSocket client. Just
 * enough of the protocol for a page test: navigate, evaluate, screenshot. Closing kills the browser
 * (and only it) and deletes the profile.
 */
final class Chromium implements AutoCloseable {
    private static final long MAX_MESSAGE = 64L * 1024 * 1024;

    private final Path profile;
    private final Process process;
    private final EventLoopGroup group = new NioEventLoopGroup(1);
    private final Channel socket;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();

    Chromium(int width, int height) throws IOException, InterruptedException {
        profile = Files.createTempDirectory("braid-chromium-");
        List<String> command = List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--window-size=" + width + "," + height, "about:blank");
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(profile.resolveSibling(profile.getFileName() + ".log").toFile()).start();
        } catch (IOException e) {
            deleteProfile();
            throw new AssertionError("chromium is not installed (apt-get install chromium; .ci/run does this): "
                    + e.getMessage(), e);
        }
        Path activePort = profile.resolve("DevToolsActivePort");
        Await.until(Duration.ofSeconds(30), "chromium to open its DevTools port", () ->
                process.isAlive() && Files.exists(activePort) && readLines(activePort).size() >= 2);
        int port = Integer.parseInt(readLines(activePort).get(0).trim());
        String pageSocket = pageWebSocket(port);
        socket = connect(URI.create(pageSocket));
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static String pageWebSocket(int port) {
        String[] found = new String[1];
        Await.until(Duration.ofSeconds(10), "chromium's page target", () -> {
            List<Object> targets = (List<Object>) MonitorJson.parse(Http.get("http://127.0.0.1:" + port + "/json/list", null).body());
            for (Object target : targets) {
                Map<String, Object> t = (Map<String, Object>) target;
                if ("page".equals(t.get("type")) && t.get("webSocketDebuggerUrl") != null) {
                    found[0] = (String) t.get("webSocketDebuggerUrl");
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    private Channel connect(URI uri) throws InterruptedException {
        CompletableFuture<Void> handshaken = new CompletableFuture<>();
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder().webSocketUri(uri)
                .maxFramePayloadLength((int) MAX_MESSAGE).generateOriginHeader(false).build();
        Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024),
                                new WebSocketClientProtocolHandler(config),
                                new WebSocketFrameAggregator((int) MAX_MESSAGE),
                                new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                                    @Override
                                    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                                        if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                                            handshaken.complete(null);
                                        }
                                        ctx.fireUserEventTriggered(event);
                                    }

                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
                                        onMessage(frame.text());
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        handshaken.completeExceptionally(cause);
                                        pending.values().forEach(p -> p.completeExceptionally(cause));
                                        ctx.close();
                                    }
                                });
                    }
                })
                .connect(uri.getHost(), uri.getPort()).sync().channel();
        handshaken.orTimeout(10, TimeUnit.SECONDS).join();
        return channel;
    }

    @SuppressWarnings("unchecked")
    private void onMessage(String text) {
        Map<String, Object> message = MonitorJson.parseObject(text);
        if (message.get("id") instanceof Long id) {
            CompletableFuture<Map<String, Object>> waiting = pending.remove(id);
            if (waiting == null) {
                return;
            }
            if (message.containsKey("error")) {
                waiting.completeExceptionally(new IllegalStateException("DevTools: " + message.get("error")));
            } else {
                waiting.complete((Map<String, Object>) message.get("result"));
            }
        }
    }

    /** Sends one DevTools command and waits for its result. */
    Map<String, Object> send(String method, Map<String, Object> params) {
        long id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> result = new CompletableFuture<>();
        pending.put(id, result);
        Map<String, Object> command = new LinkedHashMap<>();
        command.put("id", id);
        command.put("method", method);
        command.put("params", params);
        socket.writeAndFlush(new TextWebSocketFrame(MonitorJson.write(command)));
        return result.orTimeout(30, TimeUnit.SECONDS).join();
    }

    void navigate(String url) {
        send("Page.enable", Map.of());
        send("Page.navigate", Map.of("url", url));
    }

    /** Evaluates a JavaScript expression in the page and returns its value (JSON-like). */
    @SuppressWarnings("unchecked")
    Object eval(String expression) {
        Map<String, Object> answer = send("Runtime.evaluate",
                Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
        if (answer.containsKey("exceptionDetails")) {
            throw new IllegalStateException("page threw: " + answer.get("exceptionDetails"));
        }
        return ((Map<String, Object>) answer.get("result")).get("value");
    }

    /** Saves a PNG of the whole page. */
    void screenshot(Path file) throws IOException {
        Map<String, Object> shot = send("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode((String) shot.get("data")));
    }

    @Override
    public void close() {
        try {
            if (socket != null && socket.isActive()) {
                socket.close().syncUninterruptibly();
            }
        } finally {
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy();
            children.forEach(ProcessHandle::destroy);
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            deleteProfile();
        }
    }

    private void deleteProfile() {
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
        profile.resolveSibling(profile.getFileName() + ".log").toFile().delete();
    }
}
