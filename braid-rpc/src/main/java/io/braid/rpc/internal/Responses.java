package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.internal.NotServedHere;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Response;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Builds Response envelopes and maps failures to codes, in one place for server and client. */
final class Responses {
    private Responses() {
    }

    public static Envelope ok(long callId, ByteString payload, java.util.Map<String, String> metadata) {
        Response.Builder response = Response.newBuilder().setCallId(callId).setPayload(payload);
        if (metadata != null && !metadata.isEmpty()) {
            response.putAllMetadata(metadata);
        }
        return Envelope.newBuilder().setResponse(response).build();
    }

    public static Envelope error(long callId, Code code, String message) {
        return error(callId, code, message, null);
    }

    public static Envelope error(long callId, Code code, String message, java.util.Map<String, String> metadata) {
        Response.Builder response = Response.newBuilder()
                .setCallId(callId)
                .setCode(code.value())
                .setMessage(message == null ? "" : message);
        if (metadata != null && !metadata.isEmpty()) {
            response.putAllMetadata(metadata);
        }
        return Envelope.newBuilder().setResponse(response).build();
    }

    /** The answer to a failed call; a {@link NotServedHere} also carries its owner (see {@link #withMoved}). */
    public static Envelope error(long callId, BraidException failure) {
        return error(callId, failure.code(), failure.getMessage(), withMoved(failure, null));
    }

    /**
     * {@code metadata} (null for none) plus, when {@code failure} is a {@link NotServedHere}, the
     * {@link NotServedHere#METADATA_KEY} entry naming its owner ("" when unknown): the mark by which
     * a client knows that the call did not run here and may be sent on.
     */
    public static java.util.Map<String, String> withMoved(BraidException failure,
                                                          java.util.Map<String, String> metadata) {
        if (!(failure instanceof NotServedHere moved)) {
            return metadata;
        }
        java.util.Map<String, String> merged = new java.util.LinkedHashMap<>();
        if (metadata != null) {
            merged.putAll(metadata);
        }
        merged.put(NotServedHere.METADATA_KEY, NotServedHere.encode(moved.owner().orElse(null)));
        return merged;
    }

    /** The failure a caller sees for a non-OK response. */
    public static BraidException toException(Response response) {
        return new BraidException(Code.forValue(response.getCode()), response.getMessage());
    }

    /** The failure a caller sees for a non-OK response. */
    static BraidException toException(InboundResponse response) {
        return new BraidException(Code.forValue(response.getCode()), response.getMessage());
    }

    /**
     * The code and message a handler's failure becomes: a {@link BraidException} keeps both, any
     * other throwable is {@link Code#INTERNAL} with its message.
     */
    public static BraidException fromHandlerFailure(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof BraidException braid) {
            return braid;
        }
        String message = t.getMessage();
        return new BraidException(Code.INTERNAL, message != null ? message : t.getClass().getName(), t);
    }

    public static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
