package io.braid.gateway.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.braid.api.Code;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
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
        } catch (IOException e) { // InvalidProtocolBufferException: reading an array does no other I/O
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
     * Reads a client frame from one copy of its bytes, which its bytes fields (the payload) then
     * share instead of copying them again. (Parsing the pooled buffer's own memory would cost more:
     * protobuf copies a direct buffer's bytes anyway, after two NIO views of it.)
     */
    static ClientFrame parse(ByteBuf bytes) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(ByteBufUtil.getBytes(bytes));
        in.enableAliasing(true); // the array is this frame's alone
        ClientFrame frame = ClientFrame.parseFrom(in);
        in.checkLastTagWas(0); // as parseFrom(byte[]) does: a stray end-group tag is no frame
        return frame;
    }

    /**
     * {@code frame} serialized into one pooled heap buffer of exactly its size from {@code alloc},
     * after a 4-byte length prefix when {@code prefixed}. Heap, because protobuf writes an array
     * without the two NIO views a direct buffer costs per frame; the transport copies it into its
     * direct buffer on the way out.
     */
    static ByteBuf encode(ByteBufAllocator alloc, ServerFrame frame, boolean prefixed) {
        int size = frame.getSerializedSize();
        int header = prefixed ? 4 : 0;
        ByteBuf out = alloc.heapBuffer(header + size);
        try {
            if (prefixed) {
                out.writeInt(size);
            }
            CodedOutputStream coded = CodedOutputStream.newInstance(out.array(), out.arrayOffset() + header, size);
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
