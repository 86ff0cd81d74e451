package io.braid.bench.pubsub;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The hand-written baseline a user would write with Lettuce alone: one platform thread reads
 * batches with {@code XREADGROUP COUNT 64 BLOCK 100} on a connection of its own, hands each message
 * to the handler inline, then acknowledges the whole batch with one {@code XACK} sent without
 * waiting for its answer. No redelivery, no dead letters, no bounds: the floor of what braid's
 * channel does.
 */
final class LettuceStreamLoop implements AutoCloseable {
    static final int BATCH = 64;
    private static final Duration BLOCK = Duration.ofMillis(100);

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread reader;

    LettuceStreamLoop(StatefulRedisConnection<String, byte[]> readConnection, RedisAsyncCommands<String, byte[]> acks,
            String key, String group, java.util.function.Consumer<byte[]> handler) {
        RedisCommands<String, byte[]> read = readConnection.sync();
        try {
            read.xgroupCreate(XReadArgs.StreamOffset.from(key, "$"), group, XGroupCreateArgs.Builder.mkstream(true));
        } catch (RedisBusyException exists) {
            // BUSYGROUP: made by an earlier run
        }
        Consumer<String> consumer = Consumer.from(group, "loop");
        XReadArgs args = XReadArgs.Builder.count(BATCH).block(BLOCK);
        XReadArgs.StreamOffset<String> next = XReadArgs.StreamOffset.lastConsumed(key);
        this.reader = Thread.ofPlatform().name("lettuce-stream-loop").daemon().start(() -> {
            while (running.get()) {
                List<StreamMessage<String, byte[]>> batch;
                try {
                    batch = read.xreadgroup(consumer, args, next);
                } catch (RuntimeException e) {
                    if (running.get()) {
                        System.err.println("lettuce stream loop: " + e); // the cell's operations time out
                        java.util.concurrent.locks.LockSupport.parkNanos(BLOCK.toNanos());
                    }
                    continue;
                }
                if (batch.isEmpty()) {
                    continue;
                }
                String[] ids = new String[batch.size()];
                for (int i = 0; i < ids.length; i++) {
                    StreamMessage<String, byte[]> message = batch.get(i);
                    handler.accept(message.getBody().get(PubsubSuite.BODY_FIELD));
                    ids[i] = message.getId();
                }
                acks.xack(key, group, ids);
            }
        });
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        reader.join(BLOCK.toMillis() + 5_000);
    }
}
