package io.braid.gateway.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.api.Code;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import java.util.List;

/**
 * TCP frames after the length prefix is taken off: one protobuf {@link ClientFrame} in, one
 * {@link ServerFrame} out (the prefix is put on by the next handler). Bytes that are not a client
 * frame fail with {@link BadFrameException} (INVALID_ARGUMENT). One instance per connection.
 */
final class TcpFrameCodec extends MessageToMessageCodec<ByteBuf, ServerFrame> {
    @Override
    protected void encode(ChannelHandlerContext ctx, ServerFrame frame, List<Object> out) {
        out.add(Unpooled.wrappedBuffer(frame.toByteArray()));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf bytes, List<Object> out) {
        try {
            out.add(ClientFrame.parseFrom(ByteBufUtil.getBytes(bytes)));
        } catch (InvalidProtocolBufferException e) {
            throw new BadFrameException(Code.INVALID_ARGUMENT, "not a client frame (" + bytes.readableBytes()
                    + " bytes): " + e.getMessage(), e);
        }
    }
}
