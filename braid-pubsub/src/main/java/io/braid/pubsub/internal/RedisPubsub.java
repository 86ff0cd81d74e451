package io.braid.pubsub.internal;

import io.braid.api.Pubsub;
import io.braid.api.Ticker;
import io.braid.api.Topic;
import io.braid.api.internal.PubsubListener;
import io.braid.api.internal.PubsubStats;
import io.braid.api.internal.SerialScheduler;
import io.braid.api.internal.TopicStats;
import io.braid.redis.RedisConnector;
import io.braid.redis.internal.RedisErrors;
import io.braid.redis.internal.RedisScript;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topics and channels on Redis Streams. A topic is a stream ({@code braid:{topic:N}}); a channel is
 * a consumer group on it; each {@link io.braid.api.Channel} subscribed here is one consumer. One
 * channel with one consumer is a single receive, several channels a broadcast, several consumers of
 * one channel compete. Dead letters go to {@code braid:{topic:N}:dead}; {@code braid:topics} lists
 * the topics.
 *
 * <p>Nothing is deleted while a channel still needs it: {@link #trim()} (run by a leader) cuts
 * each stream below the oldest message some channel has not acknowledged or not yet been given,
 * deciding and cutting in one script. An optional {@code maxLen} cap bounds a stream anyway,
 * which is a documented, opt-in loss. Ephemeral channels open here are marked alive in
 * {@code braid:{topic:N}:ephemeral} by a heartbeat (started with the first one, on the
 * {@link Builder#scheduler} given or a virtual thread of its own); the leader's trim removes
 * those left unmarked past their idle limit by a crashed node.
 *
 * <p>Thread-safe. {@link #close()} stops the heartbeat and closes every channel subscribed
 * through this instance, all at once; not the borrowed {@link RedisConnector}. Idempotent.
 */
public final class RedisPubsub implements Pubsub, PubsubStats {
    static final String TOPICS_KEY = "braid:topics";
    /** The default of {@link Builder#ephemeralIdleLimit(Duration)}. */
    public static final Duration DEFAULT_EPHEMERAL_IDLE_LIMIT = Duration.ofMinutes(5);
    private static final Logger log = LoggerFactory.getLogger(RedisPubsub.class);
    private static final RedisScript TRIM = RedisScript.resource(RedisPubsub.class, "trim.lua");
    private static final RedisScript BEAT = RedisScript.resource(RedisPubsub.class, "beat.lua");

    final RedisConnector redis;
    final String consumerPrefix;
    final int batchSize;
    final long maxLen;
    final Duration block;
    final int maxBodyBytes;
    final Duration ephemeralIdleLimit;
    final PubsubListener listener;
    /** The clock of the channels' claim rounds (every {@code redeliverAfter / 2}). */
    final Ticker ticker;
    /** Borrowed for the heartbeat, or null: then the heartbeat gets a virtual thread of its own. */
    private final ScheduledExecutorService scheduler;
    final ExecutorService handlers;
    private final StatefulConnection<String, byte[]> binaryConnection;
    final RedisClusterAsyncCommands<String, byte[]> binary;
    private final Map<String, RedisTopic> topics = new ConcurrentHashMap<>();
    final Set<StreamChannel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Marks this instance's ephemeral channels alive every quarter of their idle limit; made on
     * first use. Guarded by this.
     */
    private SerialScheduler heartbeat;
    /** Whether the last heartbeat failed (touched by the heartbeat's rounds only, one at a time). */
    private volatile boolean heartbeatFailing;

    private RedisPubsub(Builder b) {
        this.redis = b.redis;
        this.consumerPrefix = b.consumerName;
        this.batchSize = b.batchSize;
        this.maxLen = b.maxLen;
        this.block = b.block;
        this.maxBodyBytes = b.maxBodyBytes;
        this.ephemeralIdleLimit = b.ephemeralIdleLimit;
        this.listener = b.listener;
        this.ticker = b.ticker;
        this.scheduler = b.scheduler;
        this.handlers = MessageHandlers.start();
        this.binaryConnection = redis.newBinaryConnection();
        this.binary = RedisConnector.binaryCommands(binaryConnection);
    }

    public static Builder builder(RedisConnector redis) {
        return new Builder(redis);
    }

    @Override
    public Topic topic(String name) {
        if (closed.get()) {
            throw new IllegalStateException("pubsub is closed");
        }
        return topics.computeIfAbsent(Names.topic(name), n -> new RedisTopic(this, n));
    }

    static String streamKey(String topic) {
        return "braid:{topic:" + topic + "}";
    }

    static String deadKey(String topic) {
        return streamKey(topic) + ":dead";
    }

    /** The topic's ephemeral channels and their last beats: a HASH in the stream's slot. */
    static String ephemeralKey(String topic) {
        return streamKey(topic) + ":ephemeral";
    }

    /**
     * Marks the ephemeral {@code channels} of {@code topic} alive now (Redis' clock), with this
     * instance's idle limit, and starts the heartbeat that goes on marking them while they are open.
     */
    void beat(String topic, List<String> channels) throws Exception {
        startHeartbeat();
        beatAsync(topic, channels).get(5, TimeUnit.SECONDS);
    }

    private CompletableFuture<Long> beatAsync(String topic, List<String> channels) {
        String[] args = new String[channels.size() + 1];
        args[0] = Long.toString(ephemeralIdleLimit.toMillis());
        for (int i = 0; i < channels.size(); i++) {
            args[i + 1] = channels.get(i);
        }
        return redis.eval(BEAT, ScriptOutputType.INTEGER, new String[] {ephemeralKey(topic)}, args);
    }

    private synchronized void startHeartbeat() {
        if (heartbeat == null && !closed.get()) {
            heartbeat = SerialScheduler.borrowingOrOwning(scheduler,
                    Thread.ofVirtual().name("braid-pubsub-heartbeat-" + consumerPrefix).factory());
            nextHeartbeat();
        }
    }

    /** The next round a quarter of the idle limit from now; rounds never overlap, even when Redis is slow. */
    private void nextHeartbeat() {
        try {
            long quarter = Math.max(1, ephemeralIdleLimit.toMillis() / 4);
            heartbeat.schedule(this::heartbeatRound, quarter, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // closed: no more rounds
        }
    }

    /** One round: marks every open ephemeral channel, without blocking the scheduler's thread. */
    private void heartbeatRound() {
        Map<String, List<String>> byTopic = new java.util.TreeMap<>();
        for (StreamChannel channel : channels) {
            if (channel.isEphemeral()) {
                byTopic.computeIfAbsent(channel.topic(), t -> new ArrayList<>()).add(channel.name());
            }
        }
        List<CompletableFuture<Long>> beats = new ArrayList<>();
        byTopic.forEach((topic, names) -> beats.add(beatAsync(topic, names)));
        CompletableFuture.allOf(beats.toArray(CompletableFuture[]::new)).orTimeout(5, TimeUnit.SECONDS)
                .whenComplete((ok, failure) -> {
                    if (failure == null && heartbeatFailing) {
                        log.info("ephemeral channels of {} are marked alive again", consumerPrefix);
                        heartbeatFailing = false;
                    } else if (failure != null && !heartbeatFailing && !closed.get()) {
                        log.warn("cannot mark the ephemeral channels of {} alive ({}); the leader removes them after {}"
                                + " without a mark", consumerPrefix, failure.getMessage(), ephemeralIdleLimit);
                        heartbeatFailing = true;
                    }
                    if (!closed.get()) {
                        synchronized (this) {
                            nextHeartbeat();
                        }
                    }
                });
    }

    /**
     * Cuts every topic below what its channels still need: each channel's pending messages and
     * everything after the last message it was given. Each topic is decided and cut in one script
     * on its stream's slot, so no read, acknowledgement or new channel slips in between. Topics
     * without channels are left alone. The same script first removes ephemeral channels whose
     * node stopped beating for longer than their idle limit (see
     * {@link Builder#ephemeralIdleLimit(Duration)}). A topic that cannot be trimmed (Redis
     * unreachable for its slot, a key of another type) is logged and skipped; the others are
     * still trimmed. Safe to run anywhere, any number of times; the runtime runs it on a leader.
     *
     * @return how many messages were removed
     */
    public long trim() {
        Set<String> names;
        try {
            names = redis.async().smembers(TOPICS_KEY).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("trimming topics failed: cannot list them ({})", e.getMessage());
            return 0;
        }
        long removed = 0;
        for (String topic : names) {
            try {
                removed += trim(topic);
            } catch (Exception e) {
                log.warn("trimming topic {} failed ({}); the other topics are trimmed", topic, e.getMessage());
            }
        }
        return removed;
    }

    /** Trims one topic (see {@link #trim()}); returns how many messages were removed. */
    long trim(String topic) throws Exception {
        List<Long> result = redis.<List<Long>>eval(TRIM, ScriptOutputType.MULTI,
                new String[] {streamKey(topic), ephemeralKey(topic)}).get(5, TimeUnit.SECONDS);
        long channelsRemoved = result.get(1);
        if (channelsRemoved > 0) {
            log.info("removed {} ephemeral channel(s) of topic {} whose node stopped beating", channelsRemoved, topic);
        }
        return result.get(0);
    }

    /**
     * The figures of every topic listed in {@code braid:topics}: XLEN of the stream and of its dead
     * letters, and XINFO GROUPS for each channel's consumers, pending count and backlog (the
     * group's {@code lag}, which Redis 7.0 and later report; -1 where Redis cannot tell).
     */
    @Override
    public CompletableFuture<List<TopicStats>> topicStats() {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new IllegalStateException("pubsub is closed"));
        }
        return CompletableFuture.supplyAsync(this::readTopicStats, handlers);
    }

    private List<TopicStats> readTopicStats() {
        try {
            List<TopicStats> stats = new ArrayList<>();
            for (String topic : new java.util.TreeSet<>(redis.async().smembers(TOPICS_KEY).get(5, TimeUnit.SECONDS))) {
                String key = streamKey(topic);
                long length = redis.async().xlen(key).get(5, TimeUnit.SECONDS);
                long dead = redis.async().xlen(deadKey(topic)).get(5, TimeUnit.SECONDS);
                List<TopicStats.ChannelStats> channels = new ArrayList<>();
                if (length > 0 || redis.async().exists(key).get(5, TimeUnit.SECONDS) > 0) {
                    for (Object raw : redis.async().xinfoGroups(key).get(5, TimeUnit.SECONDS)) {
                        Map<String, Object> group = StreamChannel.pairs((List<?>) raw);
                        Object lag = group.get("lag");
                        channels.add(new TopicStats.ChannelStats(String.valueOf(group.get("name")),
                                ((Number) group.get("consumers")).intValue(),
                                lag instanceof Number number ? number.longValue() : -1,
                                ((Number) group.get("pending")).longValue()));
                    }
                }
                channels.sort(java.util.Comparator.comparing(TopicStats.ChannelStats::channel));
                stats.add(new TopicStats(topic, length, dead, channels));
            }
            return stats;
        } catch (Exception e) {
            throw failure("cannot read the topics' figures", e);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        SerialScheduler beating;
        synchronized (this) {
            beating = heartbeat;
        }
        if (beating != null) {
            beating.close();
        }
        Channels.closeTogether(channels);
        MessageHandlers.close(handlers);
        binaryConnection.close();
    }

    static RuntimeException failure(String what, Throwable failure) {
        return RedisErrors.toBraid(what, failure);
    }

    /** Settings; every setter validates at once. */
    public static final class Builder {
        private final RedisConnector redis;
        private String consumerName = "consumer-" + Long.toHexString(System.nanoTime());
        private int batchSize = 64;
        private long maxLen;
        private Duration block = Duration.ofMillis(500);
        private int maxBodyBytes = 1024 * 1024;
        private Duration ephemeralIdleLimit = DEFAULT_EPHEMERAL_IDLE_LIMIT;
        private PubsubListener listener = PubsubListener.NONE;
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;

        private Builder(RedisConnector redis) {
            this.redis = Objects.requireNonNull(redis, "redis");
        }

        /** Prefix of this process's consumer names (the node id, typically). */
        public Builder consumerName(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("consumerName must not be blank");
            }
            this.consumerName = name;
            return this;
        }

        /** Messages read (and acknowledged) per round trip, 1..10,000; default 64. */
        public Builder batchSize(int size) {
            if (size < 1 || size > 10_000) {
                throw new IllegalArgumentException("batchSize must be in 1..10000, was " + size);
            }
            this.batchSize = size;
            return this;
        }

        /**
         * Caps each stream at about this many messages (XADD MAXLEN ~), dropping the oldest even if
         * a channel has not read them: an opt-in loss for topics where the latest matters most.
         * 0 (the default) means no cap.
         */
        public Builder maxLen(long maxLen) {
            if (maxLen < 0) {
                throw new IllegalArgumentException("maxLen must not be negative, was " + maxLen);
            }
            this.maxLen = maxLen;
            return this;
        }

        /** Largest message body accepted by publish; default 1 MiB. */
        public Builder maxBodyBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxBodyBytes must be positive, was " + bytes);
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        /** How long one read waits for new messages before looking around (claims, close); default 500 ms. */
        public Builder block(Duration block) {
            Objects.requireNonNull(block, "block");
            if (block.toMillis() < 1 || block.compareTo(RedisConnector.DEFAULT_COMMAND_TIMEOUT) >= 0) {
                throw new IllegalArgumentException("block must be in 1 ms.." + RedisConnector.DEFAULT_COMMAND_TIMEOUT
                        + " (the command timeout), was " + block);
            }
            this.block = block;
            return this;
        }

        /**
         * How long an ephemeral channel ({@code withDurable(false)}) may go unmarked before the
         * leader's {@link RedisPubsub#trim()} removes it, 1 s..1 day; default 5 minutes. While a
         * channel is open this instance marks it alive every quarter of this limit (a heartbeat
         * that does not depend on messages or handlers, so a quiet or busy channel stays); the
         * channels of a node that crashed or was cut off are no longer marked, and once neither a
         * mark nor a consumer's read came within the limit, the channel goes and stops pinning the
         * topic's trim. Each channel carries its own limit, so nodes may differ.
         */
        public Builder ephemeralIdleLimit(Duration limit) {
            Objects.requireNonNull(limit, "ephemeralIdleLimit");
            if (limit.compareTo(Duration.ofSeconds(1)) < 0 || limit.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException("ephemeralIdleLimit must be in 1s..1d, was " + limit);
            }
            this.ephemeralIdleLimit = limit;
            return this;
        }

        /** Hears what this instance publishes, delivers and dead-letters; default none. */
        public Builder listener(PubsubListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * The clock of the channels' claim rounds (each looks for messages pending longer than
         * {@code redeliverAfter} every half of it; how long a message has been pending is Redis'
         * to say); default {@link Ticker#system()}.
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Where the ephemeral channels' heartbeat runs; borrowed: its owner closes it,
         * {@link RedisPubsub#close()} only stops the heartbeat. Default: a virtual thread of this
         * instance's own, started with the first ephemeral channel. Channel readers and handlers
         * run on virtual threads of their own either way (a reader blocks in Redis).
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        public RedisPubsub build() {
            return new RedisPubsub(this);
        }
    }

    static Range<String> only(String id) {
        return Range.create(id, id);
    }
}
