package io.braid.gateway.internal;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.api.Code;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * TCP frames: in, the bytes of one frame after the length decoder took its prefix off, read as a
 * protobuf {@link ClientFrame}; out, a {@link ServerFrame} written with its 4-byte length prefix
 * into one buffer (one buffer, one promise per frame: no separate prefix buffer to combine).
 * Bytes that are not a client frame fail with {@link BadFrameException} (INVALID_ARGUMENT). One
 * instance per connection.
 */
final class TcpFrameCodec extends ChannelDuplexHandler {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ClientFrame frame;
        try {
            frame = parse(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new BadFrameException(Code.INVALID_ARGUMENT, "not a client frame (" + bytes.readableBytes()
                    + " bytes): " + e.getMessage(), e);
        } finally {
            bytes.release();
        }
        ctx.fireChannelRead(frame);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ServerFrame frame) {
            ctx.write(encode(ctx.alloc(), frame, true), promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    /**
     * Reads a client frame straight from the buffer's memory (no copy of the frame first); its
     * bytes fields are copied out, so nothing refers to the buffer afterwards.
     */
    static ClientFrame parse(ByteBuf bytes) throws InvalidProtocolBufferException {
        return ClientFrame.parseFrom(bytes.nioBuffer());
    }

    /**
     * {@code frame} serialized into one buffer of exactly its size from {@code alloc} (a direct
     * one where it pools them, which the socket writes without a copy), after a 4-byte length
     * prefix when {@code prefixed}.
     */
    static ByteBuf encode(ByteBufAllocator alloc, ServerFrame frame, boolean prefixed) {
        int size = frame.getSerializedSize();
        int header = prefixed ? 4 : 0;
        ByteBuf out = alloc.ioBuffer(header + size);
        try {
            if (prefixed) {
                out.writeInt(size);
            }
            CodedOutputStream coded = out.hasArray()
                    ? CodedOutputStream.newInstance(out.array(), out.arrayOffset() + header, size)
                    : CodedOutputStream.newInstance(out.nioBuffer(header, size));
            frame.writeTo(coded);
            coded.checkNoSpaceLeft();
            out.writerIndex(header + size);
            return out;
        } catch (IOException e) {
            out.release();
            throw new UncheckedIOException("cannot serialize a server frame of " + size + " bytes", e);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }
}
