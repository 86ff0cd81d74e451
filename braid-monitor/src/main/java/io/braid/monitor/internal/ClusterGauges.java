package io.braid.monitor.internal;

import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Role;
import io.braid.api.Subscription;
import io.braid.api.internal.NodeView;
import io.braid.api.internal.PubsubStats;
import io.braid.api.internal.TopicStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gauges that read a node's modules: nodes per service and state (from discovery), the
 * election's role and epoch, this node's link count, and each topic's and channel's backlog,
 * pending, consumers and dead letters. Discovery and election gauges read their module when
 * scraped (cheap, no I/O); link counts and topic figures may need a store round trip, so
 * {@link #refresh()} (the sampler) reads them and the gauges show the last value read. Every gauge
 * made here is removed again by {@link #close()}.
 */
public final class ClusterGauges implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterGauges.class);

    private final MeterRegistry registry;
    private final NodeView view;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final Set<String> services = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicLong> values = new ConcurrentHashMap<>();
    private final AtomicLong links = new AtomicLong();
    private final Subscription watch;

    public ClusterGauges(MeterRegistry registry, NodeView view) {
        this.registry = registry;
        this.view = view;
        Elector elector = view.elector();
        for (Role role : Role.values()) {
            meters.add(Gauge.builder(BraidMeters.ELECTION_ROLE, elector, e -> e.role() == role ? 1 : 0)
                    .description("1 for this node's role in its service's election, 0 for the others")
                    .tag(BraidMeters.TAG_SERVICE, elector.service()).tag(BraidMeters.TAG_ROLE, role.name())
                    .strongReference(true).register(registry));
        }
        meters.add(Gauge.builder(BraidMeters.ELECTION_EPOCH, elector, Elector::epoch)
                .description("The fencing epoch of the current leadership as this node saw it")
                .tag(BraidMeters.TAG_SERVICE, elector.service()).strongReference(true).register(registry));
        meters.add(Gauge.builder(BraidMeters.LINKCACHE_LINKS, links, AtomicLong::get)
                .description("Tokens linked to this node")
                .tag(BraidMeters.TAG_NODE, view.node().id()).strongReference(true).register(registry));
        Discover discover = view.discover();
        discover.services().forEach(this::bindService);
        this.watch = discover.watch(event -> bindService(event.node().service()));
    }

    private void bindService(String service) {
        if (!services.add(service)) {
            return;
        }
        Discover discover = view.discover();
        for (NodeState state : NodeState.values()) {
            meters.add(Gauge.builder(BraidMeters.DISCOVER_NODES, discover, d -> count(d.nodes(service), state))
                    .description("Nodes of a service as discovery lists them, by state")
                    .tag(BraidMeters.TAG_SERVICE, service).tag(BraidMeters.TAG_STATE, state.name())
                    .strongReference(true).register(registry));
        }
    }

    private static long count(List<Node> nodes, NodeState state) {
        return nodes.stream().filter(node -> node.state() == state).count();
    }

    /** Reads the figures that need I/O (link count, topics); waits at most a few seconds. */
    public void refresh() {
        try {
            links.set(view.linkCache().linkCountAsync(view.node().id()).get(5, TimeUnit.SECONDS));
        } catch (Exception e) {
            log.debug("cannot count the links of {}: {}", view.node().id(), e.toString());
        }
        if (view.pubsub() instanceof PubsubStats stats) {
            try {
                for (TopicStats topic : stats.topicStats().get(5, TimeUnit.SECONDS)) {
                    set(BraidMeters.PUBSUB_DEAD_LETTERS, "Messages in a topic's dead letters", topic.deadLetters(),
                            BraidMeters.TAG_TOPIC, topic.topic());
                    for (TopicStats.ChannelStats channel : topic.channels()) {
                        String[] tags = {BraidMeters.TAG_TOPIC, topic.topic(), BraidMeters.TAG_CHANNEL, channel.channel()};
                        set(BraidMeters.PUBSUB_BACKLOG, "Messages of a topic no consumer of the channel has taken yet",
                                Math.max(0, channel.backlog()), tags);
                        set(BraidMeters.PUBSUB_PENDING, "Messages handed to a channel's consumers and not acknowledged",
                                channel.pending(), tags);
                        set(BraidMeters.PUBSUB_CONSUMERS, "Consumers joined to a channel", channel.consumers(), tags);
                    }
                }
            } catch (Exception e) {
                log.debug("cannot read the topics' figures: {}", e.toString());
            }
        }
    }

    private void set(String name, String description, long value, String... tags) {
        String key = name + String.join("\u0000", tags);
        values.computeIfAbsent(key, k -> {
            AtomicLong holder = new AtomicLong();
            meters.add(Gauge.builder(name, holder, AtomicLong::get).description(description).tags(tags)
                    .strongReference(true).register(registry));
            return holder;
        }).set(value);
    }

    @Override
    public void close() {
        watch.close();
        for (Meter meter : meters) {
            registry.remove(meter);
        }
        meters.clear();
    }
}
