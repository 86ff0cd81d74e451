package io.braid.rpc.internal;

import com.google.protobuf.CodedOutputStream;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.rpc.internal.wire.Envelope;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.io.IOException;

/**
 * Turns {@link Envelope}s into frames: one exactly sized buffer per envelope. An envelope over the
 * limit fails its write promise with {@link Code#RESOURCE_EXHAUSTED}; callers check
 * {@link #fits} first where they want to answer the call instead.
 *
 * <p>An {@link OutboundFrame} (a call's request, a successful answer) is written field by field as
 * the envelope that holds it: the same bytes, without building the generated messages.
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends ChannelOutboundHandlerAdapter {
    private final int maxFrameBytes;

    public FrameEncoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    /** Whether {@code envelope} fits in a frame of {@code maxFrameBytes}. */
    public static boolean fits(Envelope envelope, int maxFrameBytes) {
        return envelope.getSerializedSize() <= maxFrameBytes;
    }

    public static BraidException tooLarge(int size, int maxFrameBytes) {
        return new BraidException(Code.RESOURCE_EXHAUSTED,
                "message of " + size + " bytes exceeds the frame limit of " + maxFrameBytes + " bytes (maxFrameBytes)");
    }

    /**
     * One frame for {@code envelope}, whose serialized size the caller has just read (protobuf
     * memoizes it): an exactly sized buffer from {@code alloc} that the caller owns. On failure
     * nothing is left allocated.
     */
    public static ByteBuf encode(ByteBufAllocator alloc, Envelope envelope, int size) throws IOException {
        return encode(alloc, (Object) envelope, size);
    }

    /** One frame for {@code outbound}, as {@link #encode(ByteBufAllocator, Envelope, int)}. */
    public static ByteBuf encode(ByteBufAllocator alloc, OutboundFrame outbound) throws IOException {
        return encode(alloc, outbound, outbound.envelopeSize());
    }

    /** As above for an {@link Envelope} or an {@link OutboundFrame} whose envelope is {@code size} bytes. */
    static ByteBuf encode(ByteBufAllocator alloc, Object message, int size) throws IOException {
        ByteBuf frame = alloc.ioBuffer(FrameDecoder.HEADER_BYTES + size);
        try {
            frame.writeInt(size);
            if (message instanceof OutboundFrame outbound) {
                // Straight into the buffer: no CodedOutputStream, no NIO view per frame.
                int start = frame.writerIndex();
                outbound.writeEnvelope(frame);
                if (frame.writerIndex() - start != size) {
                    throw new IOException("wrote " + (frame.writerIndex() - start) + " bytes of an envelope of " + size);
                }
                return frame;
            }
            // A pooled buffer keeps one NIO view for such short uses: no view objects per frame.
            CodedOutputStream output = CodedOutputStream.newInstance(frame.nioBufferCount() == 1
                    ? frame.internalNioBuffer(frame.writerIndex(), size)
                    : frame.nioBuffer(frame.writerIndex(), size));
            ((Envelope) message).writeTo(output);
            output.checkNoSpaceLeft();
            frame.writerIndex(frame.writerIndex() + size);
            return frame;
        } catch (IOException | RuntimeException | Error e) {
            frame.release();
            throw e;
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        int size;
        if (msg instanceof Envelope envelope) {
            size = envelope.getSerializedSize();
        } else if (msg instanceof OutboundFrame outbound) {
            size = outbound.envelopeSize();
        } else {
            ctx.write(msg, promise);
            return;
        }
        if (size > maxFrameBytes) {
            promise.setFailure(tooLarge(size, maxFrameBytes));
            return;
        }
        ByteBuf frame;
        try {
            frame = encode(ctx.alloc(), msg, size);
        } catch (Exception | Error e) {
            promise.setFailure(e);
            return;
        }
        ctx.write(frame, promise);
    }
}
