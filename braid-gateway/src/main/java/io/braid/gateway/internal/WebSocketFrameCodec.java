package io.braid.gateway.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.braid.api.Code;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.ServerFrame;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.util.List;

/**
 * WebSocket messages (whole, after aggregation) to client frames and back. A binary message is a
 * frame in protobuf binary, a text message the frame in protobuf's JSON mapping; the gateway
 * answers in the kind the client sent last (binary until the first text message). Control frames
 * are answered by Netty's protocol handler and never reach here. One instance per connection;
 * used on its event loop only.
 */
final class WebSocketFrameCodec extends MessageToMessageCodec<WebSocketFrame, ServerFrame> {
    private static final JsonFormat.Parser JSON_IN = JsonFormat.parser();
    private static final JsonFormat.Printer JSON_OUT = JsonFormat.printer().omittingInsignificantWhitespace();

    private boolean text;

    @Override
    protected void encode(ChannelHandlerContext ctx, ServerFrame frame, List<Object> out) throws Exception {
        out.add(text ? new TextWebSocketFrame(JSON_OUT.print(frame))
                : new BinaryWebSocketFrame(TcpFrameCodec.encode(ctx.alloc(), frame, false)));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
        if (frame instanceof BinaryWebSocketFrame) {
            text = false;
            try {
                out.add(TcpFrameCodec.parse(frame.content()));
            } catch (IOException e) {
                throw new BadFrameException(Code.INVALID_ARGUMENT, "binary message is not a client frame: "
                        + e.getMessage(), e);
            }
        } else if (frame instanceof TextWebSocketFrame textFrame) {
            text = true;
            ClientFrame.Builder parsed = ClientFrame.newBuilder();
            try {
                JSON_IN.merge(textFrame.text(), parsed);
            } catch (InvalidProtocolBufferException | RuntimeException e) {
                throw new BadFrameException(Code.INVALID_ARGUMENT, "text message is not a client frame in protobuf"
                        + " JSON: " + e.getMessage(), e);
            }
            out.add(parsed.build());
        }
        // Anything else (a stray pong) is dropped; MessageToMessageCodec releases it.
    }
}
