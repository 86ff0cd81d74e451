package io.braid.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Parser;

/**
 * How payloads are encoded, chosen per call by a content type (go-micro's Codec). The caller picks
 * one with {@link CallOptions#withContentType}; the server decodes the request and encodes its
 * answer with the same one. Protobuf binary is the default; protobuf JSON and raw bytes are built
 * in; users register their own on the client and server builders. A content type the receiving
 * side does not know is {@link Code#INVALID_ARGUMENT}. Implementations are thread-safe.
 */
public interface Codec {
    /** The name a caller chooses this codec by, e.g. {@code application/json}. */
    String contentType();

    /** Encodes a request or response: a protobuf message, or {@code byte[]} passed through. */
    ByteString encode(Object value) throws Exception;

    /** Decodes bytes into the type {@code parser} makes. */
    <T> T decode(ByteString bytes, Parser<T> parser) throws Exception;
}
