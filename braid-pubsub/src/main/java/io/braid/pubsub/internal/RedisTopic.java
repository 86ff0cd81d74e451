package io.braid.pubsub.internal;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.DeadLetter;
import io.braid.api.Message;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** One topic: a Redis stream. Publishing is one XADD; the first publish registers the topic. */
final class RedisTopic extends CheckedTopic {
    static final String BODY = "b";
    static final String HEADER = "h:";
    static final String DEAD_ID = "x-id";
    static final String DEAD_CHANNEL = "x-channel";
    static final String DEAD_REASON = "x-reason";
    static final String DEAD_DELIVERIES = "x-deliveries";
    static final String REPLAY_OF = "braid-replay-of";

    private final RedisPubsub pubsub;
    private final String name;
    private final String key;
    private volatile boolean registered;
    /** Read only by Lettuce when it writes a command, so one serves every XADD. */
    private final XAddArgs xaddArgs;

    RedisTopic(RedisPubsub pubsub, String name) {
        super(pubsub.maxBodyBytes);
        this.pubsub = pubsub;
        this.name = name;
        this.key = RedisPubsub.streamKey(name);
        this.xaddArgs = new XAddArgs();
        if (pubsub.maxLen > 0) {
            xaddArgs.maxlen(pubsub.maxLen).approximateTrimming();
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    CompletableFuture<String> append(byte[] body, Map<String, String> headers) {
        // One stage for the failure and the listener: a publish is on the hot path.
        return send(fields(body, headers)).handle((id, failure) -> {
            if (failure != null) {
                throw RedisPubsub.failure("cannot publish to topic " + name, failure);
            }
            pubsub.listener.published(name);
            return id;
        });
    }

    private CompletableFuture<String> xadd(Map<String, byte[]> fields) {
        return send(fields).exceptionally(failure -> {
            throw RedisPubsub.failure("cannot publish to topic " + name, failure);
        });
    }

    private CompletableFuture<String> send(Map<String, byte[]> fields) {
        registerOnce();
        return pubsub.binary.xadd(key, xaddArgs, fields).toCompletableFuture();
    }

    private void registerOnce() {
        if (!registered) {
            pubsub.redis.async().sadd(RedisPubsub.TOPICS_KEY, name).thenAccept(added -> registered = true);
        }
    }

    static Map<String, byte[]> fields(byte[] body, Map<String, String> headers) {
        if (headers.isEmpty()) {
            return Map.of(BODY, body);
        }
        Map<String, byte[]> fields = LinkedHashMap.newLinkedHashMap(headers.size() + 1);
        headers.forEach((k, v) -> fields.put(HEADER + k, v.getBytes(StandardCharsets.UTF_8)));
        fields.put(BODY, body);
        return fields;
    }

    @Override
    Channel open(String channel, ChannelOptions options) {
        registerOnce();
        StreamChannel consumer = new StreamChannel(pubsub, name, channel, options);
        pubsub.channels.add(consumer);
        return consumer;
    }

    @Override
    CompletableFuture<List<DeadLetter>> readDeadLetters(int limit) {
        return pubsub.binary.xrange(RedisPubsub.deadKey(name), Range.create("-", "+"), Limit.from(limit))
                .toCompletableFuture()
                .handle((entries, failure) -> {
                    if (failure != null) {
                        throw RedisPubsub.failure("cannot read the dead letters of " + name, failure);
                    }
                    List<DeadLetter> letters = new ArrayList<>(entries.size());
                    for (StreamMessage<String, byte[]> entry : entries) {
                        letters.add(toDeadLetter(entry));
                    }
                    return letters;
                });
    }

    private DeadLetter toDeadLetter(StreamMessage<String, byte[]> entry) {
        Map<String, byte[]> body = entry.getBody();
        int deliveries = Integer.parseInt(text(body.get(DEAD_DELIVERIES), "1"));
        Message message = StreamChannel.toMessage(text(body.get(DEAD_ID), entry.getId()), name, body, deliveries);
        return new DeadLetter(message, text(body.get(DEAD_CHANNEL), "?"), text(body.get(DEAD_REASON), ""));
    }

    private static String text(byte[] value, String otherwise) {
        return value == null ? otherwise : new String(value, StandardCharsets.UTF_8);
    }

    @Override
    CompletableFuture<Integer> replay(int limit) {
        String deadKey = RedisPubsub.deadKey(name);
        return pubsub.binary.xrange(deadKey, Range.create("-", "+"), Limit.from(limit)).toCompletableFuture()
                .thenCompose(entries -> {
                    CompletableFuture<Integer> done = CompletableFuture.completedFuture(0);
                    for (StreamMessage<String, byte[]> entry : entries) {
                        DeadLetter letter = toDeadLetter(entry);
                        Map<String, String> headers = new LinkedHashMap<>(letter.message().headers());
                        headers.put(REPLAY_OF, letter.message().id());
                        done = done.thenCompose(count -> xadd(fields(letter.message().body(), headers))
                                .thenCompose(id -> pubsub.binary.xdel(deadKey, entry.getId()).toCompletableFuture())
                                .thenApply(deleted -> count + 1));
                    }
                    return done;
                })
                .exceptionally(failure -> {
                    throw RedisPubsub.failure("cannot replay the dead letters of " + name, failure);
                });
    }
}
