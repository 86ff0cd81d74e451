package io.braid.api;

import java.util.Map;

/**
 * A call as client interceptors see it before it leaves: they may read and change its metadata,
 * tighten its deadline, or answer it themselves. Not thread-safe: one interceptor at a time.
 */
public interface OutgoingCall {
    /** The service called. */
    String target();

    String method();

    /** The player token, empty for a stateless call. */
    String token();

    /** Metadata sent with the request; changes made here are sent (until the call proceeds). */
    Map<String, String> metadata();

    Deadline deadline();

    /** Moves the deadline earlier (never later). */
    void tightenDeadline(Deadline earlier);

    /** The options the caller passed. */
    CallOptions options();

    /** Metadata the server answered with; empty until the answer arrives. */
    Map<String, String> responseMetadata();
}
