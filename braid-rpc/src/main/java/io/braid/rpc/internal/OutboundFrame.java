package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.Map;

/**
 * The hot messages of the protocol, a unary call's {@link Request} and its successful
 * {@link Response}, written field by field as the {@link Envelope} that holds them, without
 * building the generated messages: the same bytes, minus the builder, the message and the map
 * views protobuf's generated code makes each time it sizes or writes an (empty) map. Every other
 * message goes out as a generated {@link Envelope}.
 *
 * <p>Fields equal to their proto3 default are left out, as generated code does; a map entry is
 * written with its key and value.
 *
 * <p><b>Internal:</b> public only for braid-bench's frame benchmark ({@link #request}); it may
 * change without notice.
 */
public abstract sealed class OutboundFrame {
    /** Set by {@link #envelopeSize()}; the size of the nested Request or Response. */
    private int messageSize = -1;

    /** The envelope's field that holds this message. */
    abstract int envelopeField();

    abstract int messageSize();

    abstract void writeMessage(ByteBuf out);

    /**
     * A call's request as the client writes it; {@code caller} (the calling node's id) may be null.
     */
    public static OutboundFrame request(long callId, String method, String token, int timeoutMs,
                                        Map<String, String> metadata, String caller, ByteString payload,
                                        String contentType) {
        RequestFrame frame = new RequestFrame(method, token, metadata, caller, payload, contentType);
        frame.callId = callId;
        frame.timeoutMs = timeoutMs;
        return frame;
    }

    /** Bytes of the envelope (the frame without its length prefix). Call again after a change. */
    public final int envelopeSize() {
        messageSize = messageSize();
        return CodedOutputStream.computeTagSize(envelopeField()) + CodedOutputStream.computeUInt32SizeNoTag(messageSize)
                + messageSize;
    }

    /**
     * Writes the envelope into {@code out} straight (no {@code CodedOutputStream}, no buffer view):
     * {@link #envelopeSize()} bytes, as protobuf would write them.
     */
    final void writeEnvelope(ByteBuf out) {
        if (messageSize < 0) {
            envelopeSize();
        }
        writeTag(out, envelopeField(), WireFormat.WIRETYPE_LENGTH_DELIMITED);
        writeVarint(out, messageSize);
        writeMessage(out);
    }

    static int stringSize(int field, String value) {
        return value.isEmpty() ? 0 : stringSizeWithTag(field, value);
    }

    static int stringSizeWithTag(int field, String value) {
        int bytes = ByteBufUtil.utf8Bytes(value);
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(bytes) + bytes;
    }

    static void writeString(ByteBuf out, int field, String value) {
        if (!value.isEmpty()) {
            writeStringAlways(out, field, value);
        }
    }

    static void writeStringAlways(ByteBuf out, int field, String value) {
        writeTag(out, field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        writeVarint(out, ByteBufUtil.utf8Bytes(value));
        ByteBufUtil.writeUtf8(out, value);
    }

    static void writeTag(ByteBuf out, int field, int wireType) {
        writeVarint(out, (field << 3 | wireType) & 0xffffffffL);
    }

    static void writeUInt64(ByteBuf out, int field, long value) {
        writeTag(out, field, WireFormat.WIRETYPE_VARINT);
        writeVarint(out, value);
    }

    /** An unsigned varint of the low 32 bits of {@code value}, as protobuf writes a uint32. */
    static void writeUInt32(ByteBuf out, int field, int value) {
        writeTag(out, field, WireFormat.WIRETYPE_VARINT);
        writeVarint(out, value & 0xffffffffL);
    }

    static void writeVarint(ByteBuf out, long value) {
        while ((value & ~0x7fL) != 0) {
            out.writeByte((int) ((value & 0x7f) | 0x80));
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    /** A bytes field: tag, length, the bytes copied straight into {@code out}. */
    static void writeBytes(ByteBuf out, int field, ByteString value) {
        writeTag(out, field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        int size = value.size();
        writeVarint(out, size);
        out.ensureWritable(size);
        int at = out.writerIndex();
        if (out.hasArray()) {
            value.copyTo(out.array(), out.arrayOffset() + at);
        } else if (out.nioBufferCount() == 1) {
            value.copyTo(out.internalNioBuffer(at, size)); // a pooled buffer's own view: no object per write
        } else {
            value.copyTo(out.nioBuffer(at, size));
        }
        out.writerIndex(at + size);
    }

    static int mapSize(int field, Map<String, String> map) {
        if (map.isEmpty()) {
            return 0; // without an iterator
        }
        int size = 0;
        for (Map.Entry<String, String> entry : map.entrySet()) {
            size += entrySize(field, entrySizeNoTag(entry.getKey(), entry.getValue()));
        }
        return size;
    }

    static int entrySize(int field, int entrySize) {
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(entrySize) + entrySize;
    }

    static int entrySizeNoTag(String key, String value) {
        return stringSizeWithTag(1, key) + stringSizeWithTag(2, value);
    }

    static void writeEntry(ByteBuf out, int field, String key, String value) {
        writeTag(out, field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        writeVarint(out, entrySizeNoTag(key, value));
        writeStringAlways(out, 1, key);
        writeStringAlways(out, 2, value);
    }

    /**
     * A unary call's request. {@code callId} and {@code timeoutMs} are set on the event loop just
     * before it is written; the rest is fixed when the call starts. {@code caller}, when not null,
     * is sent as the {@code braid-caller} metadata entry, after (and so over) the caller's own.
     */
    static final class RequestFrame extends OutboundFrame {
        private final String method;
        private final String token;
        private final Map<String, String> metadata;
        private final String caller;
        private final ByteString payload;
        private final String contentType;
        long callId;
        int timeoutMs;

        RequestFrame(String method, String token, Map<String, String> metadata, String caller, ByteString payload,
                     String contentType) {
            this.method = method;
            this.token = token;
            this.metadata = metadata;
            this.caller = caller;
            this.payload = payload;
            this.contentType = contentType;
        }

        @Override
        int envelopeField() {
            return Envelope.REQUEST_FIELD_NUMBER;
        }

        @Override
        int messageSize() {
            int size = 0;
            if (callId != 0) {
                size += CodedOutputStream.computeUInt64Size(Request.CALL_ID_FIELD_NUMBER, callId);
            }
            size += stringSize(Request.METHOD_FIELD_NUMBER, method);
            size += stringSize(Request.TOKEN_FIELD_NUMBER, token);
            if (timeoutMs != 0) {
                size += CodedOutputStream.computeUInt32Size(Request.TIMEOUT_MS_FIELD_NUMBER, timeoutMs);
            }
            size += mapSize(Request.METADATA_FIELD_NUMBER, metadata);
            if (caller != null) {
                size += entrySize(Request.METADATA_FIELD_NUMBER, entrySizeNoTag(ServerConnectionHandler.CALLER_KEY, caller));
            }
            if (!payload.isEmpty()) {
                size += CodedOutputStream.computeBytesSize(Request.PAYLOAD_FIELD_NUMBER, payload);
            }
            size += stringSize(Request.CONTENT_TYPE_FIELD_NUMBER, contentType);
            return size;
        }

        @Override
        void writeMessage(ByteBuf out) {
            if (callId != 0) {
                writeUInt64(out, Request.CALL_ID_FIELD_NUMBER, callId);
            }
            writeString(out, Request.METHOD_FIELD_NUMBER, method);
            writeString(out, Request.TOKEN_FIELD_NUMBER, token);
            if (timeoutMs != 0) {
                writeUInt32(out, Request.TIMEOUT_MS_FIELD_NUMBER, timeoutMs);
            }
            if (!metadata.isEmpty()) {
                for (Map.Entry<String, String> entry : metadata.entrySet()) {
                    writeEntry(out, Request.METADATA_FIELD_NUMBER, entry.getKey(), entry.getValue());
                }
            }
            if (caller != null) {
                writeEntry(out, Request.METADATA_FIELD_NUMBER, ServerConnectionHandler.CALLER_KEY, caller);
            }
            if (!payload.isEmpty()) {
                writeBytes(out, Request.PAYLOAD_FIELD_NUMBER, payload);
            }
            writeString(out, Request.CONTENT_TYPE_FIELD_NUMBER, contentType);
        }
    }

    /** A successful answer (code OK, no message): call id, metadata (may be null) and payload. */
    static final class OkResponseFrame extends OutboundFrame {
        private final long callId;
        private final Map<String, String> metadata;
        private final ByteString payload;

        OkResponseFrame(long callId, Map<String, String> metadata, ByteString payload) {
            this.callId = callId;
            this.metadata = metadata == null ? Map.of() : metadata;
            this.payload = payload;
        }

        @Override
        int envelopeField() {
            return Envelope.RESPONSE_FIELD_NUMBER;
        }

        @Override
        int messageSize() {
            int size = 0;
            if (callId != 0) {
                size += CodedOutputStream.computeUInt64Size(Response.CALL_ID_FIELD_NUMBER, callId);
            }
            size += mapSize(Response.METADATA_FIELD_NUMBER, metadata);
            if (!payload.isEmpty()) {
                size += CodedOutputStream.computeBytesSize(Response.PAYLOAD_FIELD_NUMBER, payload);
            }
            return size;
        }

        @Override
        void writeMessage(ByteBuf out) {
            if (callId != 0) {
                writeUInt64(out, Response.CALL_ID_FIELD_NUMBER, callId);
            }
            if (!metadata.isEmpty()) {
                for (Map.Entry<String, String> entry : metadata.entrySet()) {
                    writeEntry(out, Response.METADATA_FIELD_NUMBER, entry.getKey(), entry.getValue());
                }
            }
            if (!payload.isEmpty()) {
                writeBytes(out, Response.PAYLOAD_FIELD_NUMBER, payload);
            }
        }
    }
}
