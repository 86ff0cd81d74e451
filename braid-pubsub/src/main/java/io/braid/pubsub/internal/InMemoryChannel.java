package io.braid.pubsub.internal;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.MessageHandler;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer of one channel of an in-memory topic. Joining happens at subscribe, so messages
 * published afterwards are kept for the channel even before a handler is set. Once it is, a
 * dispatcher (a virtual thread) takes a free handler slot, then the next message from the log
 * (waiting there if there is none), and runs the handler on its own virtual thread; the slot comes
 * back when the handler is done. So at most {@code concurrency} messages are out at once, and
 * concurrency 1 keeps the topic's order.
 *
 * <p>{@link #close()} stops the dispatcher, lets running handlers finish (up to 10 s), and leaves
 * the channel, which removes it if it is ephemeral and this was its last consumer.
 */
final class InMemoryChannel implements Channel {
    private static final Logger log = LoggerFactory.getLogger(InMemoryChannel.class);
    private static final long HANDLERS_FINISH_SECONDS = 10;

    private final InMemoryPubsub pubsub;
    private final InMemoryTopicLog topicLog;
    private final ChannelOptions options;
    private final String consumerName;
    private final InMemoryTopicLog.Group group;
    private final Semaphore slots;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile MessageHandler handler;
    private volatile Thread dispatcher;

    InMemoryChannel(InMemoryPubsub pubsub, InMemoryTopicLog topicLog, String channel, ChannelOptions options) {
        this.pubsub = pubsub;
        this.topicLog = topicLog;
        this.options = options;
        this.consumerName = pubsub.nextConsumerName();
        this.slots = new Semaphore(options.concurrency());
        this.group = topicLog.join(channel, this, options.startAt() == ChannelOptions.StartPosition.EARLIEST);
    }

    @Override
    public String topic() {
        return topicLog.topic();
    }

    @Override
    public String name() {
        return group.name;
    }

    @Override
    public void onMessage(MessageHandler handler) {
        Names.required(handler, "handler");
        if (closed.get()) {
            throw new IllegalStateException("channel " + name() + " of " + topic() + " is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("channel " + name() + " of " + topic() + " already has a handler");
        }
        this.handler = handler;
        synchronized (this) {
            if (!closed.get()) {
                dispatcher = Thread.ofVirtual().name("braid-channel-" + topic() + "/" + name()).start(this::dispatch);
            }
        }
    }

    private void dispatch() {
        long redeliverAfterNanos = options.redeliverAfter().toNanos();
        try {
            while (!closed.get()) {
                slots.acquire();
                InMemoryTopicLog.Delivery delivery;
                try {
                    delivery = topicLog.take(group, consumerName, redeliverAfterNanos, options.maxDeliveries(),
                            dead -> {
                                for (int i = 0; i < dead; i++) {
                                    pubsub.listener.deadLettered(topic(), name());
                                }
                            });
                } catch (InterruptedException e) {
                    slots.release();
                    return;
                }
                run(delivery);
            }
        } catch (InterruptedException e) {
            // closed while waiting for a slot
        }
    }

    private void run(InMemoryTopicLog.Delivery delivery) {
        try {
            pubsub.handlers.execute(() -> {
                try {
                    if (delivery.message().deliveryCount() == 1) {
                        pubsub.listener.delivered(topic(), name());
                    } else {
                        pubsub.listener.redelivered(topic(), name());
                    }
                    handler.handle(delivery.message());
                    topicLog.ack(delivery);
                } catch (Throwable t) {
                    topicLog.fail(delivery, t.getClass().getSimpleName() + ": " + t.getMessage());
                    log.debug("handler of channel {} of {} failed on {} (delivery {})", name(), topic(),
                            delivery.message().id(), delivery.message().deliveryCount(), t);
                } finally {
                    slots.release();
                }
            });
        } catch (RejectedExecutionException closing) {
            slots.release(); // stays pending; a consumer claims it after redeliverAfter
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        pubsub.channels.remove(this);
        Thread running;
        synchronized (this) {
            running = dispatcher;
        }
        if (running != null) {
            running.interrupt();
            try {
                running.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            // Let running handlers finish: take every slot back.
            if (slots.tryAcquire(options.concurrency(), HANDLERS_FINISH_SECONDS, TimeUnit.SECONDS)) {
                slots.release(options.concurrency());
            } else {
                log.warn("handlers of channel {} of {} still running after {} s; their messages stay pending",
                        name(), topic(), HANDLERS_FINISH_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        topicLog.leave(group, this, options.durable());
    }

    @Override
    public String toString() {
        return "InMemoryChannel{" + topic() + "/" + name() + " as " + consumerName + "}";
    }
}
