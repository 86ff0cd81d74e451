package io.braid.api;

import java.util.Map;

/**
 * What a handler knows about the call it serves. One instance per call; safe to read from any
 * thread.
 *
 * <p>When the deadline passes, the server answers {@link Code#DEADLINE_EXCEEDED} at once and drops
 * the handler's late result; a handler doing long work should check {@link #isCancelled()} and
 * pass {@link #deadline()} on to the calls it makes ({@link CallOptions#withDeadline}).
 */
public interface CallContext {
    /** The method name the caller asked for. */
    String method();

    /** The player token the call was routed by; empty for a stateless call. Never null. */
    String token();

    /** When the caller stops waiting. Never null (a call without a timeout gets the server's maximum). */
    Deadline deadline();

    /** Metadata the caller sent; immutable. */
    Map<String, String> metadata();

    /** Who called: the caller's node id when it sent one, else its remote address. */
    String caller();

    /** True once the deadline has passed, the caller cancelled, or the caller's connection closed. */
    boolean isCancelled();
}
