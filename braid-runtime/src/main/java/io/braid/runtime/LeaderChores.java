package io.braid.runtime;

import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.Subscription;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the leader of a service does for the cluster, and every node's own announcements:
 * <ul>
 *   <li>when a node of its service is gone, the leader removes its links once, so its players get a
 *       new owner ({@link #clearLinksOfGoneNode});
 *   <li>the leader announces its service's membership changes, and every node its own role changes,
 *       as {@link ClusterEvents};
 *   <li>every {@code trimInterval} the leader cuts topics below what their slowest channel needs
 *       ({@link ControlPlane#trim()}), on the node's scheduler.
 * </ul>
 * {@link #close()} stops all three (the trim, then the role and membership listeners).
 */
final class LeaderChores implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderChores.class);

    private final NodeOptions options;
    private final Discover discover;
    private final Elector elector;
    private final LinkCache links;
    private final ControlPlane plane;
    private final ClusterEvents events;
    private final ClusterTimeline timeline;
    private Subscription membership;
    private Subscription roles;
    private ScheduledFuture<?> trimming;

    LeaderChores(NodeOptions options, Discover discover, Elector elector, LinkCache links, ControlPlane plane,
                 ClusterEvents events, ClusterTimeline timeline) {
        this.options = options;
        this.discover = discover;
        this.elector = elector;
        this.links = links;
        this.plane = plane;
        this.events = events;
        this.timeline = timeline;
    }

    /** Starts listening and trimming; returns this, to be closed with the node. */
    LeaderChores start(ScheduledExecutorService scheduler) {
        membership = discover.watch(this::nodeChanged);
        roles = elector.onChange(role -> {
            events.role(options.service, options.nodeId, role, elector.epoch());
            if (role == io.braid.api.Role.LEADER) {
                timeline.leader(elector.epoch());
            }
        });
        long every = options.trimInterval.toMillis();
        trimming = scheduler.scheduleWithFixedDelay(this::trim, every, every, TimeUnit.MILLISECONDS);
        return this;
    }

    private void nodeChanged(DiscoverEvent event) {
        if (!event.node().service().equals(options.service) || !elector.isLeader()) {
            return;
        }
        events.discover(event);
        timeline.membership(event);
        if (event.type() == DiscoverEvent.Type.REMOVED) {
            clearLinksOfGoneNode(event.node());
        }
    }

    /**
     * Removes the links of a node of this service that is gone, so its players get a new owner.
     * The store is asked first: a node that is registered again by now (a view that lagged, or
     * Redis that lost the record and got it back) keeps its players. (Were it cleared anyway, the
     * node hears it and fences itself: see {@link Ownership#nodeCleared}.)
     */
    private void clearLinksOfGoneNode(Node gone) {
        String leaderId = options.nodeId;
        discover.refresh(gone.service()).thenCompose(nodes -> {
            if (nodes.stream().anyMatch(n -> n.id().equals(gone.id()))) {
                log.info("leader {} keeps the links of {}: it is registered again", leaderId, gone.id());
                return CompletableFuture.completedFuture(-1L);
            }
            return links.downAsync(gone);
        }).whenComplete((count, failure) -> {
            if (failure != null) {
                log.warn("leader {} could not clear the links of gone node {}", leaderId, gone.id(), failure);
            } else if (count >= 0) {
                log.info("leader {} cleared {} links of gone node {}", leaderId, count, gone.id());
            }
        });
    }

    /** One trim pass if this node leads; a pass that fails is logged, and the next one comes. */
    private void trim() {
        if (!elector.isLeader()) {
            return;
        }
        try {
            long removed = plane.trim();
            if (removed > 0) {
                log.debug("trimmed {} messages no channel needs any more", removed);
            }
        } catch (RuntimeException e) {
            log.warn("trimming topics failed: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        if (trimming != null) {
            trimming.cancel(true);
        }
        if (roles != null) {
            roles.close();
        }
        if (membership != null) {
            membership.close();
        }
    }
}
