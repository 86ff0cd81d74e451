package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import java.util.Map;

/**
 * A {@link Request} as the server reads it: the same fields, read straight from the frame by
 * {@link HotFrameReader} without protobuf's builders, parser and map views (or copied from a
 * generated {@code Request} when the frame took the generated parser). Getters are named as the
 * generated ones. Immutable once read; the metadata map is unmodifiable.
 */
final class InboundRequest {
    long callId;
    String method = "";
    String token = "";
    int timeoutMs;
    Map<String, String> metadata = Map.of();
    ByteString payload = ByteString.EMPTY;
    String contentType = "";
    boolean stream;
    int initialCredit;

    /** The fields of a generated request. */
    static InboundRequest of(Request request) {
        InboundRequest read = new InboundRequest();
        read.callId = request.getCallId();
        read.method = request.getMethod();
        read.token = request.getToken();
        read.timeoutMs = request.getTimeoutMs();
        read.metadata = request.getMetadataCount() == 0 ? Map.of() : request.getMetadataMap();
        read.payload = request.getPayload();
        read.contentType = request.getContentType();
        read.stream = request.getStream();
        read.initialCredit = request.getInitialCredit();
        return read;
    }

    /** The envelope that carries the same request (tests compare with it). */
    Envelope toEnvelope() {
        return Envelope.newBuilder().setRequest(Request.newBuilder().setCallId(callId).setMethod(method).setToken(token)
                .setTimeoutMs(timeoutMs).putAllMetadata(metadata).setPayload(payload).setContentType(contentType)
                .setStream(stream).setInitialCredit(initialCredit)).build();
    }

    long getCallId() {
        return callId;
    }

    String getMethod() {
        return method;
    }

    String getToken() {
        return token;
    }

    int getTimeoutMs() {
        return timeoutMs;
    }

    Map<String, String> getMetadataMap() {
        return metadata;
    }

    ByteString getPayload() {
        return payload;
    }

    String getContentType() {
        return contentType;
    }

    boolean getStream() {
        return stream;
    }

    int getInitialCredit() {
        return initialCredit;
    }

    @Override
    public String toString() {
        return "InboundRequest{" + callId + " " + method + "}";
    }
}
