package io.braid.runtime;

import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.Pubsub;
import io.braid.api.internal.NodeInsight;
import io.braid.api.internal.NodeView;
import io.braid.api.internal.PlayerReport;
import io.braid.api.internal.PlayerViewContributor;
import io.braid.api.internal.TimelineEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node as its monitor sees it: the modules as the runtime built them (the store's own pub-sub,
 * whose topic figures the monitor reads, and the link cache without announcements), and the
 * operator actions, which go to the {@link Braid} itself; and what the node recorded for the
 * monitor ({@link NodeInsight}): its timeline, and what it knows of a player (its {@link PlayerHome},
 * when it serves players, and the modules' {@link PlayerViewContributor}s).
 */
final class MonitoredNode implements NodeView, NodeInsight {
    private final Braid braid;
    private final LinkCache links;
    private final Pubsub pubsub;
    private final ClusterTimeline timeline;
    /** Null when the node serves no players. */
    private final PlayerHome<?> players;
    private final List<PlayerViewContributor> contributors;

    MonitoredNode(Braid braid, LinkCache links, Pubsub pubsub, ClusterTimeline timeline, PlayerHome<?> players,
                  List<PlayerViewContributor> contributors) {
        this.braid = braid;
        this.links = links;
        this.pubsub = pubsub;
        this.timeline = timeline;
        this.players = players;
        this.contributors = contributors;
    }

    @Override
    public List<TimelineEvent> timeline(long sinceMillis) {
        return timeline.since(sinceMillis);
    }

    @Override
    public PlayerReport player(String token) {
        Map<String, String> extra = new LinkedHashMap<>();
        for (PlayerViewContributor contributor : contributors) {
            try {
                Map<String, String> given = contributor.describe(token);
                if (given != null) {
                    extra.putAll(given);
                }
            } catch (RuntimeException e) {
                extra.put("contributor.error", String.valueOf(e));
            }
        }
        if (players == null) {
            return new PlayerReport(false, false, 0, 0, List.of(), List.of(), extra);
        }
        return players.report(token, extra);
    }

    @Override
    public Node node() {
        return braid.node();
    }

    @Override
    public Discover discover() {
        return braid.discover();
    }

    @Override
    public Elector elector() {
        return braid.elector();
    }

    @Override
    public LinkCache linkCache() {
        return links;
    }

    @Override
    public Pubsub pubsub() {
        return pubsub;
    }

    @Override
    public void drain() {
        // A drain that cannot start (DRAINING not announced) has failed by the time drain() returns:
        // the operator's action answers that failure rather than the node's unchanged state.
        java.util.concurrent.CompletableFuture<Void> drained = braid.drain();
        if (drained.isCompletedExceptionally()) {
            throw io.braid.api.BraidException.from(drained.exceptionNow());
        }
    }

    @Override
    public void weight(int weight) {
        braid.weight(weight);
    }
}
