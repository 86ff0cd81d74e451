package io.braid.gateway.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Lets through to the WebSocket handshake only requests for the WebSocket path whose
 * {@code Origin}, if they carry one, is allowed: others get 404 (another path) or 403 (an origin
 * not in {@code allowedOrigins}) and the connection is closed. An empty set allows every origin.
 * Requests without an Origin header (non-browser clients) are let through. Sharable.
 */
@io.netty.channel.ChannelHandler.Sharable
final class HttpGate extends ChannelInboundHandlerAdapter {
    private final String path;
    private final Set<String> allowedOrigins;

    HttpGate(String path, Set<String> allowedOrigins) {
        this.path = path;
        this.allowedOrigins = allowedOrigins;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        if (!(message instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(message);
            return;
        }
        if (!path.equals(new QueryStringDecoder(request.uri()).path())) {
            refuse(ctx, request, HttpResponseStatus.NOT_FOUND, "the gateway's WebSocket is at " + path);
            return;
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !allowedOrigins.isEmpty() && !allowedOrigins.contains(origin)) {
            refuse(ctx, request, HttpResponseStatus.FORBIDDEN, "origin " + origin + " is not allowed"
                    + " (Gateway.Builder.allowedOrigins)");
            return;
        }
        ctx.fireChannelRead(message);
    }

    private static void refuse(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                               String why) {
        request.release();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(why + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
