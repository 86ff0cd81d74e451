package io.braid.api;

/**
 * Handles one message of a channel. Returning acknowledges it; throwing leaves it pending, to be
 * delivered again after the channel's {@code redeliverAfter}, until {@code maxDeliveries} moves it
 * to the dead letters. Handlers may block (they run on virtual threads).
 */
@FunctionalInterface
public interface MessageHandler {
    void handle(Message message) throws Exception;
}
