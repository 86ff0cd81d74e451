package io.braid.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Parser;

/**
 * How payloads are encoded, chosen per call by a content type (go-micro's Codec). The caller picks
 * one with {@link CallOptions#withContentType}; the server decodes the request and encodes its
 * answer with the same one. Protobuf binary is the default; protobuf JSON and raw bytes are built
 * in ({@link #PROTOBUF}, {@link #JSON}, {@link #RAW}); users register their own on the
 * {@code Braid} builder. A content type the receiving
 * side does not know is {@link Code#INVALID_ARGUMENT}. Implementations are thread-safe.
 */
public interface Codec {
    /** Protobuf binary, the default (an empty content type on the wire). */
    String PROTOBUF = "application/x-protobuf";
    /** Protobuf's JSON mapping (JsonFormat); needs full messages, not lite ones. */
    String JSON = "application/json";
    /** Bytes as they are: for {@code byte[]} requests; messages are their protobuf encoding. */
    String RAW = "application/octet-stream";

    /** The name a caller chooses this codec by, e.g. {@code application/json}. */
    String contentType();

    /** Encodes a request or response: a protobuf message, or {@code byte[]} passed through. */
    ByteString encode(Object value) throws Exception;

    /** Decodes bytes into the type {@code parser} makes. */
    <T> T decode(ByteString bytes, Parser<T> parser) throws Exception;
}
