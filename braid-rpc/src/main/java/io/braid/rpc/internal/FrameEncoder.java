package io.braid.rpc.internal;

import com.google.protobuf.CodedOutputStream;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.rpc.internal.wire.Envelope;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Turns {@link Envelope}s into frames: one exactly sized buffer per envelope. An envelope over the
 * limit fails its write promise with {@link Code#RESOURCE_EXHAUSTED}; callers check
 * {@link #fits} first where they want to answer the call instead.
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

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof Envelope envelope)) {
            ctx.write(msg, promise);
            return;
        }
        int size = envelope.getSerializedSize();
        if (size > maxFrameBytes) {
            promise.setFailure(tooLarge(size, maxFrameBytes));
            return;
        }
        ByteBuf frame = ctx.alloc().ioBuffer(FrameDecoder.HEADER_BYTES + size);
        try {
            frame.writeInt(size);
            CodedOutputStream output = CodedOutputStream.newInstance(frame.nioBuffer(frame.writerIndex(), size));
            envelope.writeTo(output);
            output.checkNoSpaceLeft();
            frame.writerIndex(frame.writerIndex() + size);
        } catch (Exception | Error e) {
            frame.release();
            promise.setFailure(e);
            return;
        }
        ctx.write(frame, promise);
    }
}
