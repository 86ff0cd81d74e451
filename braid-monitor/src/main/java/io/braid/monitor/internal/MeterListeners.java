package io.braid.monitor.internal;

import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.PubsubListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts what the link cache and pub-sub listeners hear, as the meters {@link BraidMeters} names.
 * A lookup is counted on every sticky call, so finding its counter allocates nothing: counters
 * are kept in maps keyed by the plain names (service, topic, channel) and built once.
 */
public final class MeterListeners {
    private static final String LOOKUPS_HELP = "Link cache lookups of a token's owner, by outcome";

    private final MeterRegistry registry;
    /** Per service: near hit, Redis hit, miss, relink. */
    private final Map<String, Counter[]> lookups = new ConcurrentHashMap<>();
    private final Map<String, Counter> published = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Counter>> delivered = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Counter>> redelivered = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Counter>> deadLettered = new ConcurrentHashMap<>();

    public MeterListeners(MeterRegistry registry) {
        this.registry = registry;
    }

    public LinkCacheListener linkCache() {
        return new LinkCacheListener() {
            @Override
            public void lookup(String service, Outcome outcome) {
                lookupCounters(service)[switch (outcome) {
                    case NEAR_HIT -> 0;
                    case REDIS_HIT -> 1;
                    case MISS -> 2;
                }].increment();
            }

            @Override
            public void relinked(String service) {
                lookupCounters(service)[3].increment();
            }

            @Override
            public void nearCacheDistrusted(DistrustReason reason) {
                Counter.builder(BraidMeters.LINKCACHE_DISTRUSTED)
                        .description("Periods in which the link cache's near cache did not vouch for its entries")
                        .tags(BraidMeters.TAG_REASON, reason.name().toLowerCase(java.util.Locale.ROOT))
                        .register(registry).increment(); // rare: no need to keep the counter
            }
        };
    }

    public PubsubListener pubsub() {
        return new PubsubListener() {
            @Override
            public void published(String topic) {
                Counter counter = published.get(topic);
                if (counter == null) {
                    counter = published.computeIfAbsent(topic, t -> Counter.builder(BraidMeters.PUBSUB_PUBLISHED)
                            .description("Messages this node published").tags(BraidMeters.TAG_TOPIC, t)
                            .register(registry));
                }
                counter.increment();
            }

            @Override
            public void delivered(String topic, String channel) {
                channelCounter(delivered, BraidMeters.PUBSUB_DELIVERED,
                        "Messages handed to this node's handlers for the first time", topic, channel).increment();
            }

            @Override
            public void redelivered(String topic, String channel) {
                channelCounter(redelivered, BraidMeters.PUBSUB_REDELIVERED,
                        "Messages handed to this node's handlers again", topic, channel).increment();
            }

            @Override
            public void deadLettered(String topic, String channel) {
                channelCounter(deadLettered, BraidMeters.PUBSUB_DEAD_LETTERED,
                        "Messages this node moved to the dead letters", topic, channel).increment();
            }
        };
    }

    private Counter[] lookupCounters(String service) {
        Counter[] counters = lookups.get(service);
        if (counters == null) {
            counters = lookups.computeIfAbsent(service, s -> new Counter[] {lookupCounter(s, BraidMeters.OUTCOME_NEAR_HIT),
                    lookupCounter(s, BraidMeters.OUTCOME_REDIS_HIT), lookupCounter(s, BraidMeters.OUTCOME_MISS),
                    lookupCounter(s, BraidMeters.OUTCOME_RELINK)});
        }
        return counters;
    }

    private Counter lookupCounter(String service, String outcome) {
        return Counter.builder(BraidMeters.LINKCACHE_LOOKUPS).description(LOOKUPS_HELP)
                .tags(BraidMeters.TAG_SERVICE, service, BraidMeters.TAG_OUTCOME, outcome).register(registry);
    }

    private Counter channelCounter(Map<String, Map<String, Counter>> byTopic, String name, String description,
            String topic, String channel) {
        Map<String, Counter> byChannel = byTopic.get(topic);
        if (byChannel == null) {
            byChannel = byTopic.computeIfAbsent(topic, t -> new ConcurrentHashMap<>());
        }
        Counter counter = byChannel.get(channel);
        if (counter == null) {
            counter = byChannel.computeIfAbsent(channel, c -> Counter.builder(name).description(description)
                    .tags(BraidMeters.TAG_TOPIC, topic, BraidMeters.TAG_CHANNEL, c).register(registry));
        }
        return counter;
    }
}
