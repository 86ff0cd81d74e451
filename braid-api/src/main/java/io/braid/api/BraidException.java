package io.braid.api;

import java.util.Objects;

/**
 * The one exception type of braid. Its {@link Code} says what happened and crosses the wire: a
 * handler that throws a {@code BraidException} makes the caller see the same code and message;
 * any other exception thrown by a handler reaches the caller as {@link Code#INTERNAL} with the
 * exception's message.
 *
 * <p>Futures returned by braid complete exceptionally with a {@code BraidException} (possibly
 * wrapped in a {@link java.util.concurrent.CompletionException} by dependent stages).
 */
public class BraidException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Code code;

    public BraidException(Code code, String message) {
        this(code, message, null);
    }

    public BraidException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
        if (code == Code.OK) {
            throw new IllegalArgumentException("a BraidException cannot carry Code.OK");
        }
    }

    /** What happened. */
    public Code code() {
        return code;
    }

    /**
     * The {@code BraidException} behind a failure, unwrapping {@code CompletionException} and
     * {@code ExecutionException}; any other throwable becomes {@link Code#UNKNOWN}.
     */
    public static BraidException from(Throwable failure) {
        Throwable t = failure;
        while (t != null) {
            if (t instanceof BraidException braid) {
                return braid;
            }
            if (!(t instanceof java.util.concurrent.CompletionException
                    || t instanceof java.util.concurrent.ExecutionException)) {
                break;
            }
            t = t.getCause();
        }
        Throwable root = t == null ? failure : t;
        return new BraidException(Code.UNKNOWN, String.valueOf(root), root);
    }

    @Override
    public String toString() {
        return "BraidException{" + code + ": " + getMessage() + "}";
    }
}
