package io.braid.api;

import java.util.Map;
import java.util.Objects;

/**
 * A delivered message. {@code deliveryCount} is 1 on the first delivery and grows with each
 * redelivery, so a handler can tell that it sees a message again. The body array is the
 * message's own; do not change it.
 */
public record Message(String id, String topic, Map<String, String> headers, byte[] body, int deliveryCount) {
    public Message {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(topic, "topic");
        headers = Map.copyOf(Objects.requireNonNull(headers, "headers"));
        Objects.requireNonNull(body, "body");
        if (deliveryCount < 1) {
            throw new IllegalArgumentException("deliveryCount must be at least 1, was " + deliveryCount);
        }
    }
}
