package io.braid.examples.gateway;

import io.braid.examples.proto.NodeStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Plain HTTP on the gateway: {@code /} the player page (a static file from the classpath),
 * {@code /stats} the logic nodes' latest stats as JSON, {@code /healthz}. Anything else is 404.
 */
@ChannelHandler.Sharable
final class PageHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final String PAGE_RESOURCE = "/io/braid/examples/gateway/index.html";

    private final GatewayService gateway;
    private final byte[] page;

    PageHandler(GatewayService gateway) {
        this.gateway = gateway;
        try (InputStream in = PageHandler.class.getResourceAsStream(PAGE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the player page " + PAGE_RESOURCE + " is not on the classpath");
            }
            this.page = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "bad request\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (!HttpMethod.GET.equals(request.method())) {
            respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain",
                    "GET only\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String path = request.uri().replaceFirst("[?#].*$", "");
        switch (path) {
            case "/", "/index.html" -> respond(ctx, request, HttpResponseStatus.OK, "text/html; charset=utf-8", page);
            case "/stats" -> respond(ctx, request, HttpResponseStatus.OK, "application/json",
                    statsJson(gateway).getBytes(StandardCharsets.UTF_8));
            case "/healthz" -> respond(ctx, request, HttpResponseStatus.OK, "text/plain", "ok\n".getBytes(StandardCharsets.UTF_8));
            default -> respond(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain",
                    "not found\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    /** {@code {"gateway":"gateway-1","playersHere":3,"logic":[{"node":..,"playersOnline":..,...}]}} */
    static String statsJson(GatewayService gateway) {
        Map<String, NodeStats> stats = gateway.logicStats();
        String logic = stats.values().stream()
                .map(s -> String.format("{\"node\":\"%s\",\"playersOnline\":%d,\"playersServed\":%d,\"callsServed\":%d}",
                        s.getNode(), s.getPlayersOnline(), s.getPlayersServed(), s.getCallsServed()))
                .collect(Collectors.joining(",", "[", "]"));
        return String.format("{\"gateway\":\"%s\",\"playersHere\":%d,\"logic\":%s}", gateway.nodeId(),
                gateway.playersOnline(), logic);
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                String contentType, byte[] body) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
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
