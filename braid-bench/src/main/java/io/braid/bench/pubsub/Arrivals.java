package io.braid.bench.pubsub;

import io.braid.bench.core.Load;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ties each message of an end-to-end load to its {@link Load.Done}: the body carries a sequence
 * number in its first 8 bytes, and the handler that sees the body ends that operation. A message
 * seen twice (a redelivery) or a body this load did not publish ends nothing.
 */
final class Arrivals {
    private final ConcurrentHashMap<Long, Load.Done> waiting = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final int bodyBytes;

    Arrivals(int bodyBytes) {
        if (bodyBytes < Long.BYTES) {
            throw new IllegalArgumentException("bodyBytes must be at least 8, was " + bodyBytes);
        }
        this.bodyBytes = bodyBytes;
    }

    /** A new body whose arrival will call {@code done}. */
    Message next(Load.Done done) {
        long id = sequence.incrementAndGet();
        byte[] body = new byte[bodyBytes];
        ByteBuffer.wrap(body).putLong(id);
        waiting.put(id, done);
        return new Message(id, body);
    }

    /** A handler saw {@code body}. */
    void arrived(byte[] body) {
        if (body.length >= Long.BYTES) {
            Load.Done done = waiting.remove(ByteBuffer.wrap(body).getLong());
            if (done != null) {
                done.done(null);
            }
        }
    }

    /** Publishing message {@code id} failed: its operation ends with the failure. */
    void failed(long id, Throwable failure) {
        Load.Done done = waiting.remove(id);
        if (done != null) {
            done.done(failure);
        }
    }

    record Message(long id, byte[] body) {
    }
}
