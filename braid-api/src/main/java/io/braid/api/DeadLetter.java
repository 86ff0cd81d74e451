package io.braid.api;

import java.util.Objects;

/**
 * A message that a channel gave up on after {@code maxDeliveries}, kept in its topic's dead-letter
 * stream to be read and replayed.
 *
 * @param message the message as it was last delivered
 * @param channel the channel that gave up on it
 * @param reason  why: the last failure its handler reported, when known
 */
public record DeadLetter(Message message, String channel, String reason) {
    public DeadLetter {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(reason, "reason");
    }
}
