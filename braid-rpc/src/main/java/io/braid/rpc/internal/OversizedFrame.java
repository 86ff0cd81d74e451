package io.braid.rpc.internal;

/**
 * A frame refused for its size. The decoder skips its bytes and hands this on instead, so the
 * receiver can answer (or fail) the one call it carried and keep the connection.
 *
 * @param isRequest true for a Request, false for a Response
 * @param callId    the call the frame belonged to
 * @param length    the frame's length in bytes
 */
record OversizedFrame(boolean isRequest, long callId, int length) {
}
