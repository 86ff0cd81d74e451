package io.braid.rpc.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.braid.rpc.internal.wire.Envelope;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.io.IOException;
import java.util.List;

/**
 * Turns bytes into {@link Envelope}s: a 4-byte big-endian length, then the envelope. No
 * {@code ByteBuf} leaves this handler. The two hot kinds go downstream as an
 * {@link InboundRequest} or {@link InboundResponse} instead, read by {@link HotFrameReader}
 * (without protobuf's builders) or, when a frame is not in its plain encoding, converted from the
 * generated message: the connection handlers see requests and responses only in that form.
 *
 * <p>A frame longer than the limit is not buffered: if its first bytes show a well-formed Request
 * or Response, its call id is read from them, an {@link OversizedFrame} goes downstream, and the
 * rest of the frame is skipped as it arrives, so the connection survives. Anything that does not
 * parse (garbage, a truncated envelope, an envelope of no known kind) raises
 * {@link CorruptedFrameException}; the connection handler closes the connection on it.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    static final int HEADER_BYTES = 4;
    /** Enough of an envelope to read its kind, the nested length and the call id. */
    private static final int PEEK_BYTES = 1 + 5 + 1 + 10;

    private final int maxFrameBytes;
    private long skipping;
    private final HotFrameReader hot = new HotFrameReader();

    public FrameDecoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (skipping > 0) {
            int n = (int) Math.min(skipping, in.readableBytes());
            in.skipBytes(n);
            skipping -= n;
            return;
        }
        if (in.readableBytes() < HEADER_BYTES) {
            return;
        }
        int start = in.readerIndex();
        int length = in.getInt(start);
        if (length < 0) {
            throw new CorruptedFrameException("negative frame length " + length);
        }
        if (length > maxFrameBytes) {
            int peek = Math.min(length, PEEK_BYTES);
            if (in.readableBytes() < HEADER_BYTES + peek) {
                return;
            }
            out.add(peekOversized(in, start + HEADER_BYTES, peek, length));
            in.skipBytes(HEADER_BYTES);
            skipping = length;
            return;
        }
        if (in.readableBytes() < HEADER_BYTES + length) {
            return;
        }
        Object read = read(in, start + HEADER_BYTES, length);
        in.skipBytes(HEADER_BYTES + length);
        out.add(read);
    }

    /**
     * What this decoder hands on for the envelope in {@code length} bytes of {@code in} at
     * {@code offset}: an {@link InboundRequest}, an {@link InboundResponse} or another
     * {@link Envelope}. The buffer's indexes are not moved. Public for braid-bench's frame benchmark.
     *
     * @throws CorruptedFrameException if the bytes are not an envelope of a known kind
     */
    public Object read(ByteBuf in, int offset, int length) {
        Object read = hot.read(in, offset, length);
        return read != null ? read : inbound(parse(in, offset, length));
    }

    /** A request or response envelope as what the connection handlers read; any other envelope as it is. */
    static Object inbound(Envelope envelope) {
        return switch (envelope.getKindCase()) {
            case REQUEST -> InboundRequest.of(envelope.getRequest());
            case RESPONSE -> InboundResponse.of(envelope.getResponse());
            default -> envelope;
        };
    }

    /**
     * The envelope in {@code length} bytes of {@code in} at {@code offset} (after the length
     * prefix); the buffer's indexes are not moved.
     *
     * @throws CorruptedFrameException if the bytes are not an envelope of a known kind
     */
    public static Envelope parse(ByteBuf in, int offset, int length) {
        Envelope envelope;
        try {
            // A pooled buffer keeps one NIO view for such short uses (the parse copies what it keeps).
            envelope = Envelope.parseFrom(in.nioBufferCount() == 1
                    ? in.internalNioBuffer(offset, length)
                    : in.nioBuffer(offset, length));
        } catch (InvalidProtocolBufferException e) {
            throw new CorruptedFrameException("undecodable frame of " + length + " bytes", e);
        }
        if (envelope.getKindCase() == Envelope.KindCase.KIND_NOT_SET) {
            throw new CorruptedFrameException("frame of " + length + " bytes carries no known message");
        }
        return envelope;
    }

    /** Reads kind and call id from the first bytes of an oversized frame, or fails as garbage. */
    private OversizedFrame peekOversized(ByteBuf in, int offset, int peek, int length) {
        byte[] head = new byte[peek];
        in.getBytes(offset, head);
        CodedInputStream input = CodedInputStream.newInstance(head);
        try {
            int tag = input.readTag();
            int field = WireFormat.getTagFieldNumber(tag);
            boolean lengthDelimited = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
            if (!lengthDelimited || (field != Envelope.REQUEST_FIELD_NUMBER && field != Envelope.RESPONSE_FIELD_NUMBER)) {
                throw new CorruptedFrameException("oversized frame of " + length + " bytes is not a call");
            }
            int nested = input.readRawVarint32();
            if (nested != length - input.getTotalBytesRead()) {
                throw new CorruptedFrameException("oversized frame of " + length + " bytes has a bad envelope");
            }
            int callTag = input.readTag();
            if (WireFormat.getTagFieldNumber(callTag) != 1 || WireFormat.getTagWireType(callTag) != WireFormat.WIRETYPE_VARINT) {
                throw new CorruptedFrameException("oversized frame of " + length + " bytes has no call id");
            }
            return new OversizedFrame(field == Envelope.REQUEST_FIELD_NUMBER, input.readUInt64(), length);
        } catch (IOException e) {
            throw new CorruptedFrameException("oversized frame of " + length + " bytes is not a call", e);
        }
    }
}
