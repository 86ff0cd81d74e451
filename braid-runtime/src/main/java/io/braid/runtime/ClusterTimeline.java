package io.braid.runtime;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.DiscoverEvent;
import io.braid.api.PlayerStates.Activation;
import io.braid.api.PlayerStates.Deactivation;
import io.braid.api.Pubsub;
import io.braid.api.internal.PlayerListener;
import io.braid.api.internal.TimelineEvent;
import io.braid.api.internal.TimelineEvent.Kind;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part of the cluster's timeline: what happened to it (its leadership and epoch, its
 * drain and the progress of its hand-overs, its rebalance rounds, Redis lost and back, its
 * self-fence, its own join) and, when it leads its service, the service's leaves and state changes. Each
 * event is kept here and published on {@value ClusterEvents#CLUSTER_TIMELINE} ({@link ClusterEvents});
 * a node with a monitor also {@linkplain #follow follows} that topic, so it still shows the events of
 * nodes that have gone (a drained node's "done").
 *
 * <p>Bounded: the last {@value #CAPACITY} events, its own and heard ones together (about 300 B each
 * with their fields: about 1.2 MB at most). Thread-safe; recording never blocks (publishing is
 * asynchronous, and an event that cannot be published, Redis down, is still kept here).
 */
final class ClusterTimeline implements AutoCloseable {
    static final int CAPACITY = 4096;
    /**
     * The reason of a drain's later rounds (players that stayed, offered again every second): told
     * only when one moves a player, as {@code drain}, so a long drain does not fill the timeline.
     */
    static final String DRAIN_RETRY = "drain-retry";
    private static final Logger log = LoggerFactory.getLogger(ClusterTimeline.class);

    private final String nodeId;
    private final String service;
    private final LongSupplier clock;
    private final ClusterEvents events;
    private final AtomicLong seq = new AtomicLong();
    /** Guarded by itself, with {@link #keys}. */
    private final ArrayDeque<TimelineEvent> ring = new ArrayDeque<>();
    private final Set<String> keys = new HashSet<>();
    private final Duration downAfter;
    /** When the node last saw Redis unreachable (clock ms), or -1 while it answers. Guarded by this. */
    private long downSince = -1;
    private volatile Channel following;

    /**
     * @param downAfter how long the registration may go unconfirmed before Redis counts as lost (the fence window)
     * @param clock     wall-clock milliseconds
     */
    ClusterTimeline(String nodeId, String service, ClusterEvents events, Duration downAfter, LongSupplier clock) {
        this.nodeId = nodeId;
        this.service = service;
        this.events = events;
        this.downAfter = downAfter;
        this.clock = clock;
    }

    /** Records an event of this node and publishes it. */
    void record(Kind kind, String text, Map<String, String> fields) {
        TimelineEvent event = new TimelineEvent(clock.getAsLong(), nodeId, seq.incrementAndGet(), kind, text, fields);
        keep(event);
        events.timeline(event);
    }

    /** Keeps {@code event} unless it is kept already; the oldest goes when full. */
    private void keep(TimelineEvent event) {
        synchronized (ring) {
            if (!keys.add(event.node() + "#" + event.seq())) {
                return;
            }
            ring.addLast(event);
            while (ring.size() > CAPACITY) {
                TimelineEvent old = ring.removeFirst();
                keys.remove(old.node() + "#" + old.seq());
            }
        }
    }

    /** The events kept recorded at or after {@code sinceMillis}, in the order they were kept. */
    List<TimelineEvent> since(long sinceMillis) {
        List<TimelineEvent> list = new ArrayList<>();
        synchronized (ring) {
            for (TimelineEvent event : ring) {
                if (event.atMillis() >= sinceMillis) {
                    list.add(event);
                }
            }
        }
        return list;
    }

    /**
     * Follows the timeline topic on an ephemeral channel of this node's own (from now on), keeping
     * what the other nodes publish. Closed with this.
     */
    void follow(Pubsub pubsub) {
        Channel channel = pubsub.topic(ClusterEvents.CLUSTER_TIMELINE).subscribe("timeline-" + nodeId,
                ChannelOptions.DEFAULT.withDurable(false));
        channel.onMessage(message -> {
            TimelineEvent event = ClusterEvents.timelineEvent(message.body());
            if (event != null) {
                keep(event);
            }
        });
        following = channel;
    }

    /** Its own start: this node joined its service. */
    void started(String address) {
        record(Kind.JOINED, nodeId + " joined " + service + " at " + address, Map.of("service", service,
                "address", address));
    }

    /**
     * Seen by the leader of this node's service: a node of the service was removed (LEFT: closed, or
     * gone without a word) or changed state (STATE). Joins are told by the joining node itself.
     */
    void membership(DiscoverEvent event) {
        String id = event.node().id();
        switch (event.type()) {
            case ADDED -> {
                // each node tells its own join (started), which the leader would only repeat
            }
            case REMOVED -> record(Kind.LEFT, id + " left " + service, Map.of("service", service, "subject", id));
            case UPDATED -> {
                if (event.previous().state() != event.node().state()) {
                    record(Kind.STATE, id + " is " + event.node().state() + " (was " + event.previous().state() + ")",
                            Map.of("service", service, "subject", id, "state", event.node().state().name()));
                }
            }
        }
    }

    /** This node became its service's leader under {@code epoch}. */
    void leader(long epoch) {
        record(Kind.LEADER, nodeId + " leads " + service + " (epoch " + epoch + ")",
                Map.of("service", service, "epoch", Long.toString(epoch)));
    }

    void drainStarted(Duration timeout) {
        record(Kind.DRAIN, nodeId + " started draining (up to " + timeout.toSeconds() + " s)",
                Map.of("phase", "started", "timeoutMs", Long.toString(timeout.toMillis())));
    }

    void drainDone(String how) {
        record(Kind.DRAIN, nodeId + " drained: " + how, Map.of("phase", "done", "how", how));
    }

    /**
     * A round of hand-overs of {@code of} players began ({@code reason}: drain or rebalance): told
     * now, at each quarter of the way, and when the last one's outcome is known.
     */
    HandoffRound handoffRound(String reason, int of) {
        boolean quiet = reason.equals(DRAIN_RETRY);
        HandoffRound round = new HandoffRound(quiet ? "drain" : reason, of, quiet);
        if (!quiet) {
            round.tell("started", 0);
            if (of == 0) {
                round.tell("done", 0);
            }
        }
        return round;
    }

    /**
     * The progress of one round of hand-overs. Thread-safe: outcomes arrive on several threads at
     * once, and are counted and told one at a time, so the progress told only grows.
     */
    final class HandoffRound {
        private final String reason;
        private final int of;
        /** Guarded by this. */
        private int finished;
        private int moved;
        /** Tells only its end, and only if it moved a player. */
        private final boolean quiet;

        private HandoffRound(String reason, int of, boolean quiet) {
            this.reason = reason;
            this.of = of;
            this.quiet = quiet;
        }

        /** One hand-over's outcome is known: it moved the player, or not. */
        synchronized void finished(boolean handedOver) {
            if (handedOver) {
                moved++;
            }
            int n = ++finished;
            if (n == of) {
                if (!quiet || moved > 0) {
                    tell("done", moved);
                }
            } else if (!quiet && of >= 4 && (long) n * 4 / of != (long) (n - 1) * 4 / of) {
                tell("progress", moved);
            }
        }

        private synchronized void tell(String phase, int handedOver) {
            int done = finished;
            String text = switch (phase) {
                case "started" -> nodeId + " hands over " + of + " players (" + reason + ")";
                case "done" -> nodeId + " handed over " + handedOver + " of " + of + " players (" + reason + ")"
                        + (done - handedOver > 0 ? "; " + (done - handedOver) + " stayed" : "");
                default -> nodeId + ": " + handedOver + " of " + of + " players handed over (" + reason + ")";
            };
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("phase", phase);
            fields.put("reason", reason);
            fields.put("handedOver", Integer.toString(handedOver));
            fields.put("finished", Integer.toString(done));
            fields.put("of", Integer.toString(of));
            record(Kind.HANDOFFS, text, fields);
        }
    }

    /**
     * Checks how long ago the node's registration was last confirmed: past {@code downAfter}, Redis
     * is lost (told once); confirmed again, it is back (told once, with how long it was lost).
     * Called on the node's scheduler; the in-memory plane's registration is always confirmed.
     */
    void registrationAge(Duration sinceConfirmed) {
        long now = clock.getAsLong();
        boolean down = sinceConfirmed.compareTo(downAfter) >= 0;
        Kind tell = null;
        long wasDownSince;
        synchronized (this) {
            wasDownSince = downSince;
            if (down && downSince < 0) {
                downSince = now - sinceConfirmed.toMillis();
                tell = Kind.REDIS_DOWN;
            } else if (!down && downSince >= 0) {
                downSince = -1;
                tell = Kind.REDIS_BACK;
            }
        }
        if (tell == Kind.REDIS_DOWN) {
            record(tell, nodeId + " lost Redis: registration not confirmed for " + sinceConfirmed.toMillis() + " ms",
                    Map.of("sinceConfirmedMs", Long.toString(sinceConfirmed.toMillis())));
        } else if (tell == Kind.REDIS_BACK) {
            long downMs = Math.max(0, now - wasDownSince);
            record(tell, nodeId + " reaches Redis again after " + downMs + " ms", Map.of("downMs", Long.toString(downMs)));
        }
    }

    /**
     * {@code meters} that also records the self-fence's closures and openings and the rebalance
     * rounds here. Every method is passed on ({@code ClusterTimelineTest} checks each one, so a
     * method added to PlayerListener cannot be swallowed by this wrapper's default).
     */
    PlayerListener listening(PlayerListener meters) {
        return new PlayerListener() {
            @Override
            public void activated(Activation how) {
                meters.activated(how);
            }

            @Override
            public void deactivated(Deactivation why) {
                meters.deactivated(why);
            }

            @Override
            public void handedOver(String toNode, Duration took) {
                meters.handedOver(toNode, took);
            }

            @Override
            public void notHandedOver(NotMoved why) {
                meters.notHandedOver(why);
            }

            @Override
            public void handOverEnded(String token, String toNode, NotMoved notMoved, Duration took) {
                meters.handOverEnded(token, toNode, notMoved, took);
            }

            @Override
            public void handOverReceived(String token, long epoch, Duration held) {
                meters.handOverReceived(token, epoch, held);
            }

            @Override
            public void received() {
                meters.received();
            }

            @Override
            public void saved(SaveOutcome outcome) {
                meters.saved(outcome);
            }

            @Override
            public void rebalanced(int moves) {
                meters.rebalanced(moves);
                record(Kind.REBALANCE, nodeId + " rebalances: moves " + moves + " players",
                        Map.of("moves", Integer.toString(moves)));
            }

            @Override
            public void fenceClosed() {
                meters.fenceClosed();
                record(Kind.FENCE_CLOSED, nodeId + " fenced itself: token work refused", Map.of());
            }

            @Override
            public void fenceOpened() {
                meters.fenceOpened();
                record(Kind.FENCE_OPENED, nodeId + " opened its fence again", Map.of());
            }

            @Override
            public void watchFence(BooleanSupplier open) {
                meters.watchFence(open);
            }
        };
    }

    @Override
    public void close() {
        Channel channel = following;
        if (channel != null) {
            try {
                channel.close();
            } catch (RuntimeException e) {
                log.debug("closing the timeline channel of {} failed: {}", nodeId, e.toString());
            }
        }
    }
}
