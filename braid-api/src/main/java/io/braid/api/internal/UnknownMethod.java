package io.braid.api.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;

/**
 * The answer of a node that has no handler for a call's method: NOT_FOUND with a message of a
 * fixed form. To most callers it is final (a method name that no node of the service serves). A
 * caller that knows every node of the service serves the method (braid's own components, such as
 * the gateway's claims) reads it as "not yet": the node joined the service and registers its
 * handlers a moment after its start, and asks again.
 *
 * <p>Not an API: a contract between braid-rpc's server, which writes it, and such callers.
 */
public final class UnknownMethod {
    private static final String PREFIX = "no method '";

    private UnknownMethod() {
    }

    /** The message a node answers, with NOT_FOUND, to a call of {@code method} it has no handler for. */
    public static String message(String method) {
        return PREFIX + method + "' on this node";
    }

    /** Whether {@code failure} is that answer. */
    public static boolean is(Throwable failure) {
        BraidException e = BraidException.from(failure);
        return e.code() == Code.NOT_FOUND && e.getMessage() != null && e.getMessage().startsWith(PREFIX);
    }
}
