package io.braid.gateway.client;

/**
 * Receives the pushes of a {@link GatewayClient}'s session. Called on the client's event loop,
 * one push at a time, in {@code pushSeq} order, each {@code pushSeq} of a session once; it must
 * not block (hand heavy work to an executor of your own). An exception it throws is logged and
 * the push counts as delivered.
 */
@FunctionalInterface
public interface PushListener {
    /**
     * @param pushSeq the push's number in its session: 1, 2, 3, ...; after a
     *                {@link ClientEvent.Type#RELOGGED} the new session counts from 1 again
     * @param payload the pushed bytes (the listener may keep them)
     */
    void onPush(long pushSeq, byte[] payload);
}
