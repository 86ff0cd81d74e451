package io.braid.examples.gateway;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * One handler per concern: HTTP codec, a whole request at a time, the WebSocket upgrade at
 * {@code /ws} (which also answers pings and closes), the page for every other request, and the
 * player's game frames.
 */
final class GatewayChannelInitializer extends ChannelInitializer<SocketChannel> {
    static final String WEBSOCKET_PATH = "/ws";
    private static final int MAX_REQUEST_BYTES = 64 * 1024;
    private static final int MAX_FRAME_BYTES = 16 * 1024;

    private final GatewayService gateway;
    private final PageHandler page;

    GatewayChannelInitializer(GatewayService gateway) {
        this.gateway = gateway;
        this.page = new PageHandler(gateway);
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addLast("http", new HttpServerCodec());
        pipeline.addLast("aggregate", new HttpObjectAggregator(MAX_REQUEST_BYTES));
        pipeline.addLast("websocket", new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(WEBSOCKET_PATH).maxFramePayloadLength(MAX_FRAME_BYTES).build()));
        pipeline.addLast("page", page);
        pipeline.addLast("player", new PlayerSocketHandler(gateway));
    }
}
