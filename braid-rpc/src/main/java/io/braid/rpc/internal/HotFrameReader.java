package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.Response;
import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import io.netty.util.CharsetUtil;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the two hot envelopes, a {@link Request} and a {@link Response}, straight from a frame's
 * bytes into an {@link InboundRequest} or {@link InboundResponse}: no protobuf builder, parser,
 * input stream, buffer view or map view per frame, only the objects the call keeps (its strings,
 * payload and metadata).
 *
 * <p>It takes only the plain encoding every protobuf writer produces for these messages: an
 * envelope of exactly one field (the request or response, spanning the frame), known fields with
 * their own wire types, ASCII strings, map entries of key and value. Anything else (an unknown
 * field, a field split in two, a non-ASCII string, garbage) answers null, and the frame goes to the
 * generated parser, which takes what protobuf takes and refuses what it refuses: this reader never
 * accepts a frame the generated parser would refuse, and reads every frame it accepts as that parser
 * would.
 *
 * <p>One per connection (not thread-safe); it keeps no reference to a buffer after a read.
 */
final class HotFrameReader {
    private static final int REQUEST_TAG = Envelope.REQUEST_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int RESPONSE_TAG = Envelope.RESPONSE_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int VARINT = WireFormat.WIRETYPE_VARINT;
    private static final int LENGTH = WireFormat.WIRETYPE_LENGTH_DELIMITED;
    /** Stops at the first byte that is not ASCII. */
    private static final ByteProcessor ASCII = value -> value >= 0;

    private ByteBuf in;
    private int pos;
    private int end;
    private boolean bad;

    /**
     * The request or response in {@code length} bytes of {@code in} at {@code offset}, or null
     * when the frame holds something else or is not in the plain encoding (see above). The
     * buffer's indexes are not moved.
     */
    Object read(ByteBuf in, int offset, int length) {
        this.in = in;
        this.pos = offset;
        this.end = offset + length;
        this.bad = false;
        try {
            int tag = readVarint32();
            if (bad || (tag != REQUEST_TAG && tag != RESPONSE_TAG)) {
                return null;
            }
            int size = readVarint32();
            if (bad || size != end - pos) {
                return null;
            }
            Object read = tag == REQUEST_TAG ? readRequest() : readResponse();
            return bad ? null : read;
        } finally {
            this.in = null;
        }
    }

    private InboundRequest readRequest() {
        InboundRequest request = new InboundRequest();
        Map<String, String> metadata = null;
        while (pos < end && !bad) {
            int tag = readVarint32();
            if (bad) {
                break;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            int type = WireFormat.getTagWireType(tag);
            switch (field) {
                case Request.CALL_ID_FIELD_NUMBER -> request.callId = readVarint64(type);
                case Request.METHOD_FIELD_NUMBER -> request.method = readAscii(type);
                case Request.TOKEN_FIELD_NUMBER -> request.token = readAscii(type);
                case Request.TIMEOUT_MS_FIELD_NUMBER -> request.timeoutMs = (int) readVarint64(type);
                case Request.METADATA_FIELD_NUMBER -> metadata = readEntry(type, metadata);
                case Request.PAYLOAD_FIELD_NUMBER -> request.payload = readBytes(type);
                case Request.CONTENT_TYPE_FIELD_NUMBER -> request.contentType = readAscii(type);
                case Request.STREAM_FIELD_NUMBER -> request.stream = readVarint64(type) != 0;
                case Request.INITIAL_CREDIT_FIELD_NUMBER -> request.initialCredit = (int) readVarint64(type);
                default -> bad = true;
            }
        }
        if (metadata != null) {
            request.metadata = Collections.unmodifiableMap(metadata);
        }
        return request;
    }

    private InboundResponse readResponse() {
        InboundResponse response = new InboundResponse();
        Map<String, String> metadata = null;
        while (pos < end && !bad) {
            int tag = readVarint32();
            if (bad) {
                break;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            int type = WireFormat.getTagWireType(tag);
            switch (field) {
                case Response.CALL_ID_FIELD_NUMBER -> response.callId = readVarint64(type);
                case Response.CODE_FIELD_NUMBER -> response.code = (int) readVarint64(type);
                case Response.MESSAGE_FIELD_NUMBER -> response.message = readAscii(type);
                case Response.METADATA_FIELD_NUMBER -> metadata = readEntry(type, metadata);
                case Response.PAYLOAD_FIELD_NUMBER -> response.payload = readBytes(type);
                default -> bad = true;
            }
        }
        if (metadata != null) {
            response.metadata = Collections.unmodifiableMap(metadata);
        }
        return response;
    }

    /** A map entry (key 1, value 2, both strings) put into {@code into} (made when null); later keys win. */
    private Map<String, String> readEntry(int type, Map<String, String> into) {
        int size = length(type);
        if (bad) {
            return into;
        }
        int entryEnd = pos + size;
        int outerEnd = end;
        end = entryEnd;
        String key = "";
        String value = "";
        while (pos < end && !bad) {
            int tag = readVarint32();
            if (bad) {
                break;
            }
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> key = readAscii(WireFormat.getTagWireType(tag));
                case 2 -> value = readAscii(WireFormat.getTagWireType(tag));
                default -> bad = true;
            }
        }
        end = outerEnd;
        if (bad) {
            return into;
        }
        Map<String, String> map = into != null ? into : new LinkedHashMap<>();
        map.put(key, value);
        return map;
    }

    /** A string field of ASCII characters; any other byte makes the frame go to the generated parser. */
    private String readAscii(int type) {
        int size = length(type);
        if (bad || size == 0) {
            return "";
        }
        if (in.forEachByte(pos, size, ASCII) != -1) {
            bad = true;
            return "";
        }
        String value = in.toString(pos, size, CharsetUtil.US_ASCII);
        pos += size;
        return value;
    }

    private ByteString readBytes(int type) {
        int size = length(type);
        if (bad || size == 0) {
            return ByteString.EMPTY;
        }
        byte[] bytes = new byte[size];
        in.getBytes(pos, bytes);
        pos += size;
        return UnsafeByteOperations.unsafeWrap(bytes); // nobody else holds the array
    }

    /** The length of a length-delimited field that fits in what is left, else bad. */
    private int length(int type) {
        if (type != LENGTH) {
            bad = true;
            return 0;
        }
        int size = readVarint32();
        if (!bad && (size < 0 || size > end - pos)) {
            bad = true;
        }
        return bad ? 0 : size;
    }

    private long readVarint64(int type) {
        if (type != VARINT) {
            bad = true;
            return 0;
        }
        return readVarint64();
    }

    /** A varint as protobuf reads an int32 from it (a longer one is truncated, as protobuf does). */
    private int readVarint32() {
        return (int) readVarint64();
    }

    /**
     * A varint in its shortest form, as protobuf writes them. A longer form (a last byte of 0 after
     * others, or a tenth byte other than 1) is left to the generated parser: protobuf reads those
     * its own way, and nothing that writes protobuf makes them.
     */
    private long readVarint64() {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                bad = true;
                return 0;
            }
            byte b = in.getByte(pos++);
            value |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                if ((b == 0 && shift > 0) || (shift == 63 && b != 1)) {
                    bad = true;
                    return 0;
                }
                return value;
            }
        }
        bad = true; // more than ten bytes
        return 0;
    }
}
