package io.braid.monitor.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.internal.NodeView;
import io.braid.monitor.MonitorOptions;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
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
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitor's HTTP server (Netty): codec → aggregator (64 KiB requests) → idle timeout → the
 * router below. Routes:
 * <pre>
 * GET  /healthz                    200 while the server runs                       no token
 * GET  /readyz                     200 when discovery lists this node ACTIVE, else 503   no token
 * GET  / /dashboard.js /dashboard.css   the dashboard's static files              no token
 * GET  /metrics                    Prometheus text format 0.0.4
 * GET  /api/cluster | /api/topics | /api/tokens/{token}
 * GET  /api/players/{token}         the player's owners, lane, last calls, moves
 * GET  /api/timeline?since=ms&amp;kind=K1,K2&amp;node=id   the cluster's events, newest first
 * POST /api/nodes/{id}/drain       (Content-Type: application/json)
 * POST /api/nodes/{id}/weight      {"weight": n}
 * </pre>
 * With a bearer token set, every route not marked "no token" needs {@code Authorization: Bearer}
 * (the reads need none with {@link MonitorOptions#allowUnauthenticatedReads()}). Without a token,
 * drain and weight answer 403 unless the server is bound to loopback; there, the reads and actions
 * answer only requests whose {@code Host} is loopback (localhost, 127.0.0.0/8, [::1]), so a web
 * page that rebinds its own name to 127.0.0.1 cannot use the operator's browser to reach them.
 * A request Netty cannot parse (a line or header over its limits, a bad length, broken chunks) gets
 * 400 and the connection closes; it is never routed.
 * POSTs must be {@code application/json}, which a cross-site form cannot send without a CORS
 * preflight this server never grants. Answers are computed off the event loop where they wait.
 */
public final class MonitorHttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MonitorHttpServer.class);
    private static final String RESOURCES = "/io/braid/monitor/dashboard/";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final MonitorOptions options;
    private final NodeView view;
    private final ClusterApi api;
    private final PrometheusMeterRegistry prometheus;
    private final byte[] expectedAuthorization;
    /** Bound to loopback only: without a token, then, only this machine can reach it. */
    private final boolean loopback;
    private final Map<String, Asset> assets = new LinkedHashMap<>();
    private final Channel channel;

    private record Asset(String contentType, byte[] bytes) {
    }

    private record Answer(HttpResponseStatus status, String contentType, byte[] body) {
        static Answer json(HttpResponseStatus status, Object value) {
            return new Answer(status, "application/json; charset=utf-8", JsonCodec.utf8(value));
        }

        static Answer text(HttpResponseStatus status, String text) {
            return new Answer(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
        }

        static Answer error(HttpResponseStatus status, String message) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("error", message);
            return json(status, json);
        }
    }

    /**
     * Binds and starts serving.
     *
     * @param lent the node's event loops and their server channel class (borrowed, never shut down here)
     */
    public MonitorHttpServer(MonitorOptions options, NodeView view, ClusterApi api, PrometheusMeterRegistry prometheus,
                             MonitorResources lent) {
        this.options = options;
        this.view = view;
        this.api = api;
        this.prometheus = prometheus;
        this.expectedAuthorization = options.bearerToken()
                .map(token -> ("Bearer " + token).getBytes(StandardCharsets.UTF_8)).orElse(null);
        asset("", "index.html", "text/html; charset=utf-8");
        asset("dashboard.js", "dashboard.js", "text/javascript; charset=utf-8");
        asset("dashboard.css", "dashboard.css", "text/css; charset=utf-8");
        // Resolved once: what is bound is what decides the rules below, before the first request.
        InetSocketAddress bindTo = new InetSocketAddress(options.host(), options.port());
        this.loopback = !bindTo.isUnresolved() && bindTo.getAddress().isLoopbackAddress();
        try {
            this.channel = new ServerBootstrap().group(lent.group())
                    .channel(lent.serverChannel())
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), NO_INTERIM_ANSWER,
                                    new HttpObjectAggregator(64 * 1024),
                                    new IdleStateHandler(0, 0, 120), new Router());
                        }
                    })
                    .bind(bindTo).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            throw new BraidException(Code.UNAVAILABLE, "monitor cannot listen on " + options.host() + ":"
                    + options.port() + ": " + e.getMessage(), e);
        }
        String url = "http://" + (options.host().contains(":") ? "[" + options.host() + "]" : options.host()) + ":"
                + address().getPort(); // as set: 0.0.0.0, not the wildcard the JVM made of it
        log.info("braid monitor of node {} at {}", view.node().id(), url);
        if (!loopback && (expectedAuthorization == null || options.unauthenticatedReads())) {
            log.warn("braid monitor of node {} at {} serves its reads WITHOUT A BEARER TOKEN to anyone who reaches it "
                    + "(MonitorOptions.allowUnauthenticatedReads()): the cluster's nodes, addresses and figures, and "
                    + "which node owns each player. Drain and weight {}.", view.node().id(), url,
                    expectedAuthorization == null ? "are refused (403): there is no token" : "still need the token");
        }
    }

    private void asset(String path, String resource, String contentType) {
        try (InputStream in = MonitorHttpServer.class.getResourceAsStream(RESOURCES + resource)) {
            if (in == null) {
                throw new IllegalStateException("the monitor's " + resource + " is missing from the jar");
            }
            assets.put("/" + path, new Asset(contentType, in.readAllBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private final class Router extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.decoderResult().isFailure()) {
                // Netty could not parse it (a line or header too long, a bad length, broken chunks):
                // whatever it made of the request is not routed, and the connection is not reused.
                send(ctx, Answer.error(HttpResponseStatus.BAD_REQUEST, "malformed request: "
                        + abbreviate(String.valueOf(request.decoderResult().cause().getMessage()))), false);
                return;
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            CompletableFuture<Answer> answer;
            try {
                answer = route(request);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            answer.orTimeout(options.gatherTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS)
                    .exceptionally(MonitorHttpServer::failure)
                    .thenAccept(done -> send(ctx, done, keepAlive));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("monitor connection failed: {}", cause.toString());
            ctx.close();
        }
    }

    private CompletableFuture<Answer> route(FullHttpRequest request) {
        String path = new QueryStringDecoder(request.uri()).path();
        HttpMethod method = request.method();
        boolean get = method.equals(HttpMethod.GET);
        if (path.equals("/healthz") && get) {
            return done(Answer.text(HttpResponseStatus.OK, "ok\n"));
        }
        if (path.equals("/readyz") && get) {
            return done(readiness());
        }
        Asset asset = assets.get(path.equals("/index.html") ? "/" : path);
        if (asset != null && get) {
            return done(new Answer(HttpResponseStatus.OK, asset.contentType(), asset.bytes()));
        }
        boolean action = path.startsWith("/api/nodes/") && (path.endsWith("/drain") || path.endsWith("/weight"));
        if (action || !options.unauthenticatedReads()) {
            if (!authorized(request)) {
                return done(Answer.error(HttpResponseStatus.UNAUTHORIZED, "a bearer token is required"));
            }
        }
        if (expectedAuthorization == null) {
            if (action && !loopback) {
                return done(Answer.error(HttpResponseStatus.FORBIDDEN, "drain and weight need a bearer token when the "
                        + "monitor listens beyond loopback, and this monitor has none (MonitorOptions.withBearerToken)"));
            }
            if (loopback && !loopbackHost(request.headers().get(HttpHeaderNames.HOST))) {
                return done(Answer.error(HttpResponseStatus.FORBIDDEN, "this monitor has no bearer token and answers "
                        + "only requests addressed to localhost, 127.0.0.1 or [::1]"));
            }
        }
        if (path.equals("/metrics") && get) {
            if (prometheus == null) {
                return done(Answer.error(HttpResponseStatus.NOT_FOUND, "no Prometheus registry"));
            }
            return done(new Answer(HttpResponseStatus.OK, PROMETHEUS_TEXT,
                    prometheus.scrape().getBytes(StandardCharsets.UTF_8)));
        }
        if (path.equals("/api/cluster") && get) {
            return api.cluster().thenApply(json -> {
                json.put("refreshMs", options.refreshInterval().toMillis());
                return Answer.json(HttpResponseStatus.OK, json);
            });
        }
        if (path.equals("/api/topics") && get) {
            return api.topics().thenApply(json -> Answer.json(HttpResponseStatus.OK, json));
        }
        if (path.startsWith("/api/tokens/") && get) {
            String token = path.substring("/api/tokens/".length());
            return api.token(token).thenApply(json -> Answer.json(HttpResponseStatus.OK, json));
        }
        if (path.startsWith("/api/players/") && get) {
            String token = path.substring("/api/players/".length());
            return api.player(token).thenApply(json -> Answer.json(HttpResponseStatus.OK, json));
        }
        if (path.equals("/api/timeline") && get) {
            Map<String, java.util.List<String>> query = new QueryStringDecoder(request.uri()).parameters();
            long since = 0;
            String given = first(query, "since");
            if (given != null) {
                try {
                    since = Long.parseLong(given);
                } catch (NumberFormatException e) {
                    return done(Answer.error(HttpResponseStatus.BAD_REQUEST,
                            "since must be epoch milliseconds (a whole number), was '" + abbreviate(given) + "'"));
                }
            }
            java.util.Set<String> kinds = new java.util.TreeSet<>();
            for (String kind : query.getOrDefault("kind", java.util.List.of())) {
                for (String one : kind.split(",")) {
                    if (!one.isBlank()) {
                        kinds.add(one.trim().toUpperCase(java.util.Locale.ROOT));
                    }
                }
            }
            return api.timeline(since, kinds, first(query, "node"))
                    .thenApply(json -> Answer.json(HttpResponseStatus.OK, json));
        }
        if (path.startsWith("/api/nodes/") && (path.endsWith("/drain") || path.endsWith("/weight"))) {
            if (!method.equals(HttpMethod.POST)) {
                return done(Answer.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST"));
            }
            String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
            if (!type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
                return done(Answer.error(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json"));
            }
            boolean drain = path.endsWith("/drain");
            String id = path.substring("/api/nodes/".length(), path.length() - (drain ? "/drain" : "/weight").length());
            if (drain) {
                return api.drain(id).thenApply(json -> Answer.json(HttpResponseStatus.OK, json));
            }
            Object weight;
            try {
                weight = JsonCodec.parseObject(request.content().toString(StandardCharsets.UTF_8)).get("weight");
            } catch (IllegalArgumentException e) {
                return done(Answer.error(HttpResponseStatus.BAD_REQUEST, "body must be {\"weight\": n}"));
            }
            if (!(weight instanceof Long value) || value < 0 || value > Integer.MAX_VALUE) {
                return done(Answer.error(HttpResponseStatus.BAD_REQUEST, "body must be {\"weight\": n} with n a whole number"));
            }
            return api.weight(id, (int) (long) value).thenApply(json -> Answer.json(HttpResponseStatus.OK, json));
        }
        return done(Answer.error(HttpResponseStatus.NOT_FOUND, "no such page: " + path));
    }

    private Answer readiness() {
        var node = view.node();
        boolean listed = view.discover().nodes(node.service()).stream()
                .anyMatch(n -> n.id().equals(node.id()) && n.isActive());
        if (listed && node.isActive()) {
            return Answer.text(HttpResponseStatus.OK, "ready\n");
        }
        return Answer.text(HttpResponseStatus.SERVICE_UNAVAILABLE,
                node.isActive() ? "not listed by discovery\n" : node.state().name().toLowerCase(java.util.Locale.ROOT) + "\n");
    }

    private boolean authorized(FullHttpRequest request) {
        if (expectedAuthorization == null) {
            return true;
        }
        String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expectedAuthorization);
    }

    /**
     * Whether a {@code Host} header names loopback: {@code localhost} or a loopback IP literal, with
     * or without a port. Names are never resolved here. No header (HTTP/1.0) passes: browsers always
     * send one.
     */
    static boolean loopbackHost(String host) {
        if (host == null) {
            return true;
        }
        String name = host.trim().toLowerCase(java.util.Locale.ROOT);
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            if (end < 0 || !(end == name.length() - 1 || name.charAt(end + 1) == ':')) {
                return false;
            }
            name = name.substring(1, end);
        } else {
            int colon = name.indexOf(':');
            if (colon >= 0) {
                name = name.substring(0, colon);
            }
        }
        if (name.equals("localhost")) {
            return true;
        }
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(name);
        if (literal == null) {
            return false;
        }
        try {
            return InetAddress.getByAddress(literal).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String first(Map<String, java.util.List<String>> query, String name) {
        java.util.List<String> values = query.get(name);
        return values == null || values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }

    private static CompletableFuture<Answer> done(Answer answer) {
        return CompletableFuture.completedFuture(answer);
    }

    private static Answer failure(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof IllegalArgumentException) {
            return Answer.error(HttpResponseStatus.BAD_REQUEST, cause.getMessage());
        }
        if (cause instanceof TimeoutException) {
            return Answer.error(HttpResponseStatus.GATEWAY_TIMEOUT, "the cluster did not answer in time");
        }
        BraidException braid = BraidException.from(cause);
        HttpResponseStatus status = switch (braid.code()) {
            case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
            case INVALID_ARGUMENT -> HttpResponseStatus.BAD_REQUEST;
            case UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            case DEADLINE_EXCEEDED -> HttpResponseStatus.GATEWAY_TIMEOUT;
            default -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
        };
        if (status == HttpResponseStatus.INTERNAL_SERVER_ERROR) {
            log.warn("monitor request failed", cause);
        }
        return Answer.error(status, braid.getMessage());
    }

    private static void send(ChannelHandlerContext ctx, Answer answer, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, answer.status(),
                Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                .set(HttpHeaderNames.CONTENT_LENGTH, answer.body().length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set("X-Content-Type-Options", "nosniff")
                // No other site may frame the page and steer clicks onto its drain button.
                .set("X-Frame-Options", "DENY")
                .set("Content-Security-Policy", "frame-ancestors 'none'");
        if (answer.status() == HttpResponseStatus.UNAUTHORIZED) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"braid\"");
        }
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * Drops {@code Expect: 100-continue} before the aggregator would answer it: a "100 Continue"
     * must not go out before the route's token check (a client without the token learns nothing
     * and sends no body on our say-so), and the monitor's request bodies are small. A client that
     * waits for the interim answer sends its body after its own short wait, as HTTP/1.1 lets it.
     */
    private static final io.netty.channel.ChannelInboundHandler NO_INTERIM_ANSWER = new NoInterimAnswer();

    @io.netty.channel.ChannelHandler.Sharable
    private static final class NoInterimAnswer extends io.netty.channel.ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.handler.codec.http.HttpRequest request) {
                request.headers().remove(io.netty.handler.codec.http.HttpHeaderNames.EXPECT);
            }
            ctx.fireChannelRead(msg);
        }
    }
}
