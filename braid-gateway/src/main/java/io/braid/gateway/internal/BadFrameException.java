package io.braid.gateway.internal;

import io.braid.api.Code;

/**
 * A frame the gateway cannot take: the connection gets an Error frame with {@link #code()} and
 * this message, and is closed.
 */
final class BadFrameException extends RuntimeException {
    private final Code code;

    BadFrameException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    Code code() {
        return code;
    }
}
