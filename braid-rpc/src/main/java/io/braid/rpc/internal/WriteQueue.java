package io.braid.rpc.internal;

import io.netty.channel.Channel;
import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Hands writes from any thread to a channel's event loop in batches: many producers enqueue, one
 * task on the event loop drains everything queued so far and flushes once. This turns N calls
 * made at once into one syscall instead of N task hand-offs and N flushes.
 */
final class WriteQueue {
    /** One unit of work run on the event loop; it writes without flushing. */
    public interface Item {
        void runOnLoop();

        /** Called instead of {@link #runOnLoop()} when the event loop has shut down. */
        void abandon();
    }

    private final Channel channel;
    private final Queue<Item> queue = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;

    public WriteQueue(Channel channel) {
        this.channel = channel;
    }

    /** Queues one envelope to write, in order with everything else queued. */
    public void enqueue(io.braid.rpc.internal.wire.Envelope envelope) {
        enqueue(new Item() {
            @Override
            public void runOnLoop() {
                channel.write(envelope, channel.voidPromise());
            }

            @Override
            public void abandon() {
                // the connection is gone; so is the stream this belonged to
            }
        });
    }

    /** Queues {@code item}; it runs on the event loop soon, followed by one flush per batch. */
    public void enqueue(Item item) {
        queue.add(item);
        if (scheduled.compareAndSet(false, true)) {
            try {
                channel.eventLoop().execute(drain);
            } catch (RejectedExecutionException loopGone) {
                Item abandoned;
                while ((abandoned = queue.poll()) != null) {
                    abandoned.abandon();
                }
            }
        }
    }

    private void drain() {
        boolean wrote = false;
        try {
            for (;;) {
                Item item;
                while ((item = queue.poll()) != null) {
                    item.runOnLoop();
                    wrote = true;
                }
                scheduled.set(false);
                // A producer may have queued after the last poll but before the flag was cleared.
                if (queue.isEmpty() || !scheduled.compareAndSet(false, true)) {
                    break;
                }
            }
        } finally {
            // Never flush a channel that is not connected yet: a client's SslHandler makes its
            // ClientHello on that flush, the write fails (NotYetConnectedException) and the
            // handshake never starts. Calls queued while connecting are flushed by onReady.
            if (wrote && channel.isActive()) {
                channel.flush();
            }
        }
    }
}
