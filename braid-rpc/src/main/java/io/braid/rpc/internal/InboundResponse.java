package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Response;
import java.util.Map;

/**
 * A {@link Response} as the client reads it: the same fields, read straight from the frame by
 * {@link HotFrameReader} without protobuf's builders, parser and map views (or copied from a
 * generated {@code Response}). Getters are named as the generated ones. Immutable once read; the
 * metadata map is unmodifiable.
 */
final class InboundResponse {
    long callId;
    int code;
    String message = "";
    Map<String, String> metadata = Map.of();
    ByteString payload = ByteString.EMPTY;

    /** The fields of a generated response. */
    static InboundResponse of(Response response) {
        InboundResponse read = new InboundResponse();
        read.callId = response.getCallId();
        read.code = response.getCode();
        read.message = response.getMessage();
        read.metadata = response.getMetadataCount() == 0 ? Map.of() : response.getMetadataMap();
        read.payload = response.getPayload();
        return read;
    }

    /** The envelope that carries the same response (tests compare with it). */
    Envelope toEnvelope() {
        return Envelope.newBuilder().setResponse(Response.newBuilder().setCallId(callId).setCode(code)
                .setMessage(message).putAllMetadata(metadata).setPayload(payload)).build();
    }

    long getCallId() {
        return callId;
    }

    int getCode() {
        return code;
    }

    String getMessage() {
        return message;
    }

    int getMetadataCount() {
        return metadata.size();
    }

    Map<String, String> getMetadataMap() {
        return metadata;
    }

    ByteString getPayload() {
        return payload;
    }

    @Override
    public String toString() {
        return "InboundResponse{" + callId + " code " + code + "}";
    }
}
