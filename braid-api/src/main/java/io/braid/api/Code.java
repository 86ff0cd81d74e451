package io.braid.api;

/**
 * The outcome of a call, carried on the wire by its {@link #value()}. Retry, relink and drain
 * decisions read the code, never a message string.
 *
 * <p>The numbers are part of the wire protocol and never change; a number this version does not
 * know arrives as {@link #UNKNOWN}.
 */
public enum Code {
    /** The call succeeded. */
    OK(0),
    /** The caller cancelled the call. */
    CANCELLED(1),
    /** An error that fits no other code; also the code of a number this version does not know. */
    UNKNOWN(2),
    /** The request is malformed: a bad argument, an undecodable payload, an unknown content type. */
    INVALID_ARGUMENT(3),
    /** The deadline passed before the call completed. The handler may or may not have run. */
    DEADLINE_EXCEEDED(4),
    /** No such method on the target node, or no such service in discovery. */
    NOT_FOUND(5),
    /** A limit was hit: frame size, in-flight calls, queue length. Back off before retrying. */
    RESOURCE_EXHAUSTED(6),
    /** The system is not in a state that allows the call (for example the node is draining). */
    FAILED_PRECONDITION(7),
    /** The target cannot be reached now: no node, connection refused or lost, peer shutting down. */
    UNAVAILABLE(8),
    /** The handler failed; the message says why. */
    INTERNAL(9),
    /** The caller did not prove who it is. */
    UNAUTHENTICATED(10);

    private static final Code[] BY_VALUE;

    static {
        Code[] codes = values();
        BY_VALUE = new Code[codes.length];
        for (Code code : codes) {
            BY_VALUE[code.value] = code;
        }
    }

    private final int value;

    Code(int value) {
        this.value = value;
    }

    /** The number of this code on the wire. */
    public int value() {
        return value;
    }

    /** The code for a wire number; {@link #UNKNOWN} for a number this version does not know. */
    public static Code forValue(int value) {
        return value >= 0 && value < BY_VALUE.length ? BY_VALUE[value] : UNKNOWN;
    }
}
