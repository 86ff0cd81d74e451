package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.Response;
import java.io.IOException;
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

    abstract void writeMessage(CodedOutputStream out) throws IOException;

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

    final void writeEnvelope(CodedOutputStream out) throws IOException {
        if (messageSize < 0) {
            envelopeSize();
        }
        out.writeTag(envelopeField(), WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(messageSize);
        writeMessage(out);
    }

    static int stringSize(int field, String value) {
        return value.isEmpty() ? 0 : CodedOutputStream.computeStringSize(field, value);
    }

    static void writeString(CodedOutputStream out, int field, String value) throws IOException {
        if (!value.isEmpty()) {
            out.writeString(field, value);
        }
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
        return CodedOutputStream.computeStringSize(1, key) + CodedOutputStream.computeStringSize(2, value);
    }

    static void writeEntry(CodedOutputStream out, int field, String key, String value) throws IOException {
        out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(entrySizeNoTag(key, value));
        out.writeString(1, key);
        out.writeString(2, value);
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
        void writeMessage(CodedOutputStream out) throws IOException {
            if (callId != 0) {
                out.writeUInt64(Request.CALL_ID_FIELD_NUMBER, callId);
            }
            writeString(out, Request.METHOD_FIELD_NUMBER, method);
            writeString(out, Request.TOKEN_FIELD_NUMBER, token);
            if (timeoutMs != 0) {
                out.writeUInt32(Request.TIMEOUT_MS_FIELD_NUMBER, timeoutMs);
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
                out.writeBytes(Request.PAYLOAD_FIELD_NUMBER, payload);
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
        void writeMessage(CodedOutputStream out) throws IOException {
            if (callId != 0) {
                out.writeUInt64(Response.CALL_ID_FIELD_NUMBER, callId);
            }
            if (!metadata.isEmpty()) {
                for (Map.Entry<String, String> entry : metadata.entrySet()) {
                    writeEntry(out, Response.METADATA_FIELD_NUMBER, entry.getKey(), entry.getValue());
                }
            }
            if (!payload.isEmpty()) {
                out.writeBytes(Response.PAYLOAD_FIELD_NUMBER, payload);
            }
        }
    }
}
