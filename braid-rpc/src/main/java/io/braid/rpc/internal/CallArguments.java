package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Codec;

/**
 * The caller's bad arguments, as the INVALID_ARGUMENT a call's future fails with (see
 * {@link io.braid.api.Client}: nothing there throws). A link cache may refuse a token too (its
 * length); the token router turns that into INVALID_ARGUMENT as well.
 */
final class CallArguments {
    private CallArguments() {
    }

    /**
     * The first bad argument of a call, naming it, or null when they are all good. A null token is
     * the empty one (a stateless call).
     */
    static BraidException check(String target, String method, String token, boolean requestMissing,
                                boolean parserMissing, CallOptions options) {
        if (target == null || target.isBlank()) {
            return invalid("target must name a service, was " + quoted(target));
        }
        if (method == null || method.isBlank()) {
            return invalid("method must name a method, was " + quoted(method));
        }
        if (token != null && !token.isEmpty() && token.isBlank()) {
            return invalid("token must be empty (a stateless call) or a player's token, was " + quoted(token));
        }
        if (requestMissing) {
            return invalid("request must not be null");
        }
        if (parserMissing) {
            return invalid("responseParser must not be null");
        }
        if (options == null) {
            return invalid("options must not be null (CallOptions.DEFAULT for none)");
        }
        return null;
    }

    static BraidException unknownContentType(CallOptions options, CodecRegistry codecs) {
        return invalid("contentType '" + options.contentType() + "' of the call options is unknown to this "
                + "client (it knows " + codecs + ")");
    }

    /**
     * The request's payload. Throws INVALID_ARGUMENT when the options' content type has no codec
     * ({@code codec} null) or the codec cannot encode the request (unless it threw a code of its own).
     */
    static ByteString encode(Object request, Codec codec, CallOptions options, CodecRegistry codecs) {
        if (codec == null) {
            throw unknownContentType(options, codecs);
        }
        try {
            return codec.encode(request);
        } catch (Exception e) {
            BraidException thrown = BraidException.from(e);
            throw thrown.code() == Code.UNKNOWN
                    ? new BraidException(Code.INVALID_ARGUMENT, "cannot encode the request as " + codec.contentType()
                            + ": " + e.getMessage(), e)
                    : thrown;
        }
    }

    private static BraidException invalid(String message) {
        return new BraidException(Code.INVALID_ARGUMENT, message);
    }

    private static String quoted(String value) {
        return value == null ? "null" : "'" + value + "'";
    }
}
