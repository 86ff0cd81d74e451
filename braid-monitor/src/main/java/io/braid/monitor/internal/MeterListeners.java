package io.braid.monitor.internal;

import io.braid.linkcache.LinkCacheListener;
import io.braid.monitor.BraidMeters;
import io.braid.pubsub.PubsubListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Counts what the link cache and pub-sub listeners hear, as the meters {@link BraidMeters} names. */
public final class MeterListeners {
    private record Key(String name, List<String> tags) {
    }

    private final MeterRegistry registry;
    private final Map<Key, Counter> counters = new ConcurrentHashMap<>();

    public MeterListeners(MeterRegistry registry) {
        this.registry = registry;
    }

    public LinkCacheListener linkCache() {
        return new LinkCacheListener() {
            @Override
            public void lookup(String service, Outcome outcome) {
                count(BraidMeters.LINKCACHE_LOOKUPS, "Link cache lookups of a token's owner, by outcome",
                        BraidMeters.TAG_SERVICE, service, BraidMeters.TAG_OUTCOME, switch (outcome) {
                            case NEAR_HIT -> BraidMeters.OUTCOME_NEAR_HIT;
                            case REDIS_HIT -> BraidMeters.OUTCOME_REDIS_HIT;
                            case MISS -> BraidMeters.OUTCOME_MISS;
                        });
            }

            @Override
            public void relinked(String service) {
                count(BraidMeters.LINKCACHE_LOOKUPS, "Link cache lookups of a token's owner, by outcome",
                        BraidMeters.TAG_SERVICE, service, BraidMeters.TAG_OUTCOME, BraidMeters.OUTCOME_RELINK);
            }
        };
    }

    public PubsubListener pubsub() {
        return new PubsubListener() {
            @Override
            public void published(String topic) {
                count(BraidMeters.PUBSUB_PUBLISHED, "Messages this node published", BraidMeters.TAG_TOPIC, topic);
            }

            @Override
            public void delivered(String topic, String channel) {
                count(BraidMeters.PUBSUB_DELIVERED, "Messages handed to this node's handlers for the first time",
                        BraidMeters.TAG_TOPIC, topic, BraidMeters.TAG_CHANNEL, channel);
            }

            @Override
            public void redelivered(String topic, String channel) {
                count(BraidMeters.PUBSUB_REDELIVERED, "Messages handed to this node's handlers again",
                        BraidMeters.TAG_TOPIC, topic, BraidMeters.TAG_CHANNEL, channel);
            }

            @Override
            public void deadLettered(String topic, String channel) {
                count(BraidMeters.PUBSUB_DEAD_LETTERED, "Messages this node moved to the dead letters",
                        BraidMeters.TAG_TOPIC, topic, BraidMeters.TAG_CHANNEL, channel);
            }
        };
    }

    private void count(String name, String description, String... tags) {
        counters.computeIfAbsent(new Key(name, List.of(tags)),
                k -> Counter.builder(name).description(description).tags(tags).register(registry)).increment();
    }
}
