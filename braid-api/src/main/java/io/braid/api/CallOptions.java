package io.braid.api;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per-call settings. Immutable: each {@code withX} returns a changed copy, so one instance can be
 * shared by every caller. {@link #DEFAULT} uses the client's default timeout, is not idempotent
 * and carries no metadata.
 */
public final class CallOptions {
    /** No timeout of its own (the client's default applies), not idempotent, no metadata. */
    public static final CallOptions DEFAULT = new CallOptions(null, null, false, Map.of(), null);

    private final Duration timeout;
    private final Deadline deadline;
    private final boolean idempotent;
    private final Map<String, String> metadata;
    private final String contentType;

    private CallOptions(Duration timeout, Deadline deadline, boolean idempotent, Map<String, String> metadata,
                        String contentType) {
        this.timeout = timeout;
        this.deadline = deadline;
        this.idempotent = idempotent;
        this.metadata = metadata;
        this.contentType = contentType;
    }

    /** The call fails with {@link Code#DEADLINE_EXCEEDED} if it has not completed after {@code timeout}. */
    public CallOptions withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        return new CallOptions(timeout, deadline, idempotent, metadata, contentType);
    }

    /**
     * An absolute deadline, typically {@link CallContext#deadline()} of the handler making this
     * call. When both a timeout and a deadline are set, the earlier one wins.
     */
    public CallOptions withDeadline(Deadline deadline) {
        return new CallOptions(timeout, Objects.requireNonNull(deadline, "deadline"), idempotent, metadata, contentType);
    }

    /**
     * Marks the call as safe to run twice. Only idempotent calls are retried after the request
     * has left this process; any call is retried when it provably was never written.
     */
    public CallOptions withIdempotent(boolean idempotent) {
        return new CallOptions(timeout, deadline, idempotent, metadata, contentType);
    }

    /** Adds one metadata entry sent with the request. Keys starting with {@code braid-} are reserved. */
    public CallOptions withMetadata(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (key.regionMatches(true, 0, "braid-", 0, 6)) {
            throw new IllegalArgumentException("metadata keys starting with 'braid-' are reserved: " + key);
        }
        Map<String, String> copy = new LinkedHashMap<>(metadata);
        copy.put(key, value);
        return new CallOptions(timeout, deadline, idempotent, Map.copyOf(copy), contentType);
    }

    /**
     * Encodes the request, and asks for the answer, in this content type (a {@link Codec}'s name,
     * e.g. {@code application/json}); default protobuf binary.
     */
    public CallOptions withContentType(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            throw new IllegalArgumentException("contentType must not be blank");
        }
        return new CallOptions(timeout, deadline, idempotent, metadata, contentType);
    }

    /** The content type, or null for protobuf binary. */
    public String contentType() {
        return contentType;
    }

    /** The timeout, or null when the client's default applies. */
    public Duration timeout() {
        return timeout;
    }

    /** The absolute deadline, or null. */
    public Deadline deadline() {
        return deadline;
    }

    public boolean idempotent() {
        return idempotent;
    }

    /** Metadata sent with the request; immutable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The deadline of a call started now: the earlier of {@link #deadline()} and the call's own
     * timeout, where {@code defaultTimeout} stands in for a timeout that was not set.
     */
    public Deadline effectiveDeadline(Duration defaultTimeout) {
        Deadline fromTimeout = Deadline.after(timeout != null ? timeout : defaultTimeout);
        return deadline == null ? fromTimeout : deadline.min(fromTimeout);
    }

    @Override
    public String toString() {
        return "CallOptions{timeout=" + timeout + ", deadline=" + deadline + ", idempotent=" + idempotent
                + ", metadata=" + metadata + ", contentType=" + contentType + "}";
    }
}
