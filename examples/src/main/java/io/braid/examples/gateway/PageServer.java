package io.braid.examples.gateway;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.examples.Setting;
import io.braid.examples.logic.LogicService;
import io.braid.examples.proto.NodeStats;
import io.braid.gateway.client.GatewayClient;
import io.braid.runtime.Braid;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The player page over plain HTTP, beside the gateways (braid-gateway serves only its WebSocket):
 * {@code /} the page, {@code /braid-gateway.js} braid-gateway's browser client (from the
 * classpath), {@code /gateways} the WebSocket URLs of the gateways up now (the page connects to
 * one and, when it drops, resumes on any of them), {@code /stats} the logic nodes' latest stats
 * (read from topic {@value LogicService#STATS_TOPIC} through a channel of its own on the node it is
 * given), {@code /healthz}. Anything else is 404; GET only. Thread-safe; {@link #close()} is idempotent.
 */
public final class PageServer implements AutoCloseable {
    public static final Setting PAGE_PORT = new Setting("--page-port", "GATEWAY_PAGE_PORT", "8081",
            "the port of the player page (plain HTTP); 0 picks a free one");
    static final String PAGE_RESOURCE = "/io/braid/examples/gateway/index.html";
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    private static final Duration STATS_FRESH = Duration.ofSeconds(5);

    private final Supplier<List<URI>> gateways;
    private final Map<String, NodeStats> logicStats = new ConcurrentHashMap<>();
    private final byte[] page;
    private final byte[] client;
    private final String host;
    private final AtomicBoolean closed = new AtomicBoolean();
    private EventLoopGroup group;
    private io.netty.channel.Channel listener;
    private Channel statsChannel;

    private PageServer(Supplier<List<URI>> gateways, String host) {
        this.gateways = gateways;
        this.host = host;
        this.page = resource(PAGE_RESOURCE);
        this.client = GatewayClient.javaScript();
    }

    /**
     * Serves the page on {@code host:port} (0 picks a free port), reading the logic nodes' stats
     * through {@code node} (borrowed: not closed here), listing {@code gateways} to the page.
     *
     * @throws IllegalStateException when the port cannot be bound (its cause a BindException)
     */
    public static PageServer start(Braid node, String host, int port, Supplier<List<URI>> gateways) {
        PageServer server = new PageServer(gateways, host);
        try {
            server.statsChannel = node.topic(LogicService.STATS_TOPIC)
                    .subscribe(node.node().id() + "-page", ChannelOptions.DEFAULT.withDurable(false));
            server.statsChannel.onMessage(message -> {
                NodeStats stats = NodeStats.parseFrom(message.body());
                server.logicStats.put(stats.getNode(), stats);
            });
            server.group = new NioEventLoopGroup(1, Thread.ofPlatform().name("page-http-", 0).daemon().factory());
            Handler handler = server.new Handler();
            server.listener = new ServerBootstrap().group(server.group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            channel.pipeline().addLast("http", new HttpServerCodec())
                                    .addLast("aggregate", new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                    .addLast("page", handler);
                        }
                    })
                    .bind(host, port).syncUninterruptibly().channel();
            return server;
        } catch (Exception e) { // a failed bind arrives as a checked BindException
            server.close();
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("the player page cannot listen on " + host + ":" + port + ": " + e, e);
        }
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Where a person opens the page. */
    public String url() {
        String shown = "0.0.0.0".equals(host) || "::".equals(host) ? "localhost" : host;
        return "http://" + (shown.indexOf(':') >= 0 ? "[" + shown + "]" : shown) + ":" + port() + "/";
    }

    /** The latest stats of each logic node heard from within the last few seconds, by node id. */
    public Map<String, NodeStats> logicStats() {
        long freshSince = System.currentTimeMillis() - STATS_FRESH.toMillis();
        Map<String, NodeStats> fresh = new TreeMap<>();
        logicStats.forEach((node, stats) -> {
            if (stats.getAtMillis() >= freshSince) {
                fresh.put(node, stats);
            }
        });
        return fresh;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (statsChannel != null) {
            statsChannel.close();
        }
    }

    /** {@code {"logic":[{"node":..,"playersOnline":..,"playersServed":..,"callsServed":..}]}} */
    String statsJson() {
        return logicStats().values().stream()
                .map(s -> String.format("{\"node\":\"%s\",\"playersOnline\":%d,\"playersServed\":%d,\"callsServed\":%d}",
                        s.getNode(), s.getPlayersOnline(), s.getPlayersServed(), s.getCallsServed()))
                .collect(Collectors.joining(",", "{\"logic\":[", "]}"));
    }

    /** {@code ["ws://127.0.0.1:8080/ws", ...]} */
    String gatewaysJson() {
        return gateways.get().stream().map(uri -> "\"" + uri + "\"").collect(Collectors.joining(",", "[", "]"));
    }

    private static byte[] resource(String name) {
        try (InputStream in = PageServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is not on the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ChannelHandler.Sharable
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (!request.decoderResult().isSuccess()) {
                respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "bad request\n");
                return;
            }
            if (!HttpMethod.GET.equals(request.method())) {
                respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
                return;
            }
            String path = request.uri().replaceFirst("[?#].*$", "");
            switch (path) {
                case "/", "/index.html" -> respond(ctx, request, HttpResponseStatus.OK, "text/html; charset=utf-8", page);
                case "/braid-gateway.js" -> respond(ctx, request, HttpResponseStatus.OK,
                        "text/javascript; charset=utf-8", client);
                case "/gateways" -> respond(ctx, request, HttpResponseStatus.OK, "application/json", gatewaysJson());
                case "/stats" -> respond(ctx, request, HttpResponseStatus.OK, "application/json", statsJson());
                case "/healthz" -> respond(ctx, request, HttpResponseStatus.OK, "text/plain", "ok\n");
                default -> respond(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain", "not found\n");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                String contentType, String body) {
        respond(ctx, request, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                String contentType, byte[] body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
