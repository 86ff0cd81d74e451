package io.braid.runtime;

import io.braid.api.BraidException;
import io.braid.api.Discover;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.PlayerStates.Deactivation;
import io.braid.api.Ticker;
import io.braid.api.internal.PlayerListener;
import io.braid.rpc.internal.RpcServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a node's active players to other nodes of its service: every one of them when the node
 * drains ({@link #drainStarted}, rounds until none is left), or a bounded share toward the other
 * nodes' shares by weight ({@link #rebalance}). Each move is a {@link Handoff} made in the
 * player's lane, {@value PlayerHome#HANDOFF_CONCURRENCY} at a time; one round at a time.
 * Thread-safe.
 *
 * @param <S> the state of one player
 */
final class PlayerMoves<S> {
    private static final Logger log = LoggerFactory.getLogger(PlayerMoves.class);

    private final PlayerHome<S> home;
    private final Players<S> players;
    private final Handoff handoff;
    private final Ownership ownership;
    private final LinkCache links;
    private final Discover discover;
    private final Ticker ticker;
    private final String nodeId;
    private final String service;
    private final PlayerListener listener;
    private final PlayerRecords records;
    private final ClusterTimeline timeline;
    private final AtomicLong handedOver = new AtomicLong();
    /** The round of hand-overs under way (or the last one), null before the first. */
    private volatile CompletableFuture<Void> handoffRound;
    private volatile long handoffRoundStarted;

    PlayerMoves(PlayerHome<S> home, Players<S> players, Handoff handoff, Ownership ownership, LinkCache links,
                Discover discover, Ticker ticker, String nodeId, String service, PlayerListener listener,
                PlayerRecords records, ClusterTimeline timeline) {
        this.home = home;
        this.players = players;
        this.handoff = handoff;
        this.ownership = ownership;
        this.links = links;
        this.discover = discover;
        this.ticker = ticker;
        this.nodeId = nodeId;
        this.service = service;
        this.listener = listener;
        this.records = records;
        this.timeline = timeline;
    }

    /**
     * The node drains: from now on a cold call relocates its player instead of activating it, offers
     * are refused, and a round of hand-overs starts (see {@link #handOverRound}).
     */
    void drainStarted() {
        handOverRound(true);
    }

    /**
     * Whether the drain has nothing left to hand over: no player is active here and no round is
     * under way. While players stay (no target took them, or they have no snapshot) a new round
     * starts, at most once a second.
     */
    boolean drained() {
        CompletableFuture<Void> round = handoffRound;
        if (round != null && !round.isDone()) {
            return false;
        }
        if (home.activeCount() == 0) {
            return true;
        }
        if (ticker.read() - handoffRoundStarted >= TimeUnit.SECONDS.toNanos(1)) {
            handOverRound(false);
        }
        return false;
    }

    /**
     * At a drain's end, every player handed over: removes the links that still name this node (of
     * players not active here, so without state on it), so their callers link them anew at once
     * rather than call a node that is closing. Completes with how many were removed (0 when the
     * store cannot say); never fails.
     */
    CompletableFuture<Long> releaseRemainingLinks() {
        ownership.leaving();
        Node self = new Node(nodeId, service, "0.0.0.0", 1, 0, NodeState.DRAINING, Map.of());
        return links.downAsync(self).orTimeout(1, TimeUnit.SECONDS).exceptionally(failure -> {
            log.warn("node {} drained: its remaining links could not be removed ({}); callers find their players "
                    + "a new owner once it is gone", nodeId, BraidException.from(failure).getMessage());
            return 0L;
        });
    }

    /**
     * Every {@code rebalanceEvery} (when the definition asks for it): moves a bounded share of this
     * node's players toward the other nodes' shares by weight ({@link Rebalance}), by the same
     * hand-over as a drain. Skipped while a drain or another round runs. The counts are the nodes'
     * links (one count per node, on the store).
     */
    void rebalance() {
        if (home.isDraining() || home.isClosing() || handingOver()) {
            return;
        }
        List<Node> nodes = discover.nodes(service).stream()
                .filter(node -> node.state() == NodeState.ACTIVE && node.weight() > 0).toList();
        if (nodes.size() < 2 || nodes.stream().noneMatch(node -> node.id().equals(nodeId)) || home.activeCount() == 0) {
            return;
        }
        Map<String, CompletableFuture<Long>> counting = new LinkedHashMap<>();
        for (Node node : nodes) {
            counting.put(node.id(), links.linkCountAsync(node.id()).orTimeout(1, TimeUnit.SECONDS));
        }
        CompletableFuture.allOf(counting.values().toArray(CompletableFuture[]::new)).whenComplete((ok, failure) -> {
            if (failure != null) {
                log.debug("node {}: no rebalance this round, the link counts cannot be read ({})", nodeId,
                        BraidException.from(failure).getMessage());
                return;
            }
            Map<String, Long> counts = new HashMap<>();
            counting.forEach((id, count) -> counts.put(id, count.join()));
            Map<String, Integer> plan = Rebalance.plan(nodeId, nodes, counts, players.rebalancePerRound);
            if (plan.isEmpty() || home.isDraining() || home.isClosing() || handingOver()) {
                return;
            }
            List<Move> moves = new ArrayList<>();
            Iterator<PlayerHome<S>.Active> candidates = home.activePlayers().iterator();
            for (Map.Entry<String, Integer> share : plan.entrySet()) {
                Node target = nodes.stream().filter(node -> node.id().equals(share.getKey())).findFirst().orElseThrow();
                for (int i = 0; i < share.getValue() && candidates.hasNext(); i++) {
                    moves.add(new Move(candidates.next(), List.of(target)));
                }
            }
            log.info("node {} rebalances: {} players to {}", nodeId, moves.size(), plan);
            listener.rebalanced(moves.size());
            handoffRoundStarted = ticker.read();
            runRound(moves, "rebalance");
        });
    }

    /** Whether a round of hand-overs is under way. */
    boolean handingOver() {
        CompletableFuture<Void> round = handoffRound;
        return round != null && !round.isDone();
    }

    /**
     * Hands every active player over, {@value PlayerHome#HANDOFF_CONCURRENCY} at a time (a drain is no storm):
     * each in its lane, after its running piece, while its later calls wait.
     */
    private void handOverRound(boolean first) {
        handoffRoundStarted = ticker.read();
        List<Move> moves = new ArrayList<>();
        for (PlayerHome<S>.Active player : home.activePlayers()) {
            moves.add(new Move(player, null));
        }
        runRound(moves, first ? "drain" : ClusterTimeline.DRAIN_RETRY);
    }

    /** A hand-over to make: {@code player} to the first of {@code targets} that takes it (null: any, by weight). */
    private record Move(PlayerHome<?>.Active player, List<Node> targets, String reason) {
        Move(PlayerHome<?>.Active player, List<Node> targets) {
            this(player, targets, targets == null ? "drain" : "rebalance");
        }
    }

    /** Runs {@code moves}, {@value PlayerHome#HANDOFF_CONCURRENCY} at a time, as the round under way. */
    private void runRound(List<Move> moves, String reason) {
        ClusterTimeline.HandoffRound progress = timeline.handoffRound(reason, moves.size());
        Iterator<Move> next = moves.iterator();
        CompletableFuture<Void> round = new CompletableFuture<>();
        AtomicInteger running = new AtomicInteger(1);
        handoffRound = round;
        for (int i = 0; i < PlayerHome.HANDOFF_CONCURRENCY; i++) {
            handOverNext(next, running, round, progress);
        }
        if (running.decrementAndGet() == 0) {
            round.complete(null);
        }
    }

    @SuppressWarnings("unchecked")
    private void handOverNext(Iterator<Move> next, AtomicInteger running, CompletableFuture<Void> round,
                              ClusterTimeline.HandoffRound progress) {
        Move move;
        synchronized (next) {
            if (!next.hasNext() || home.isClosing()) {
                return;
            }
            move = next.next();
        }
        PlayerHome<S>.Active player = (PlayerHome<S>.Active) move.player();
        running.incrementAndGet();
        handOver(player, move.targets(), move.reason()).whenComplete((moved, failure) -> {
            if (failure != null) {
                log.debug("player {} stays on node {}: {}", player.token, nodeId, failure.toString());
            }
            progress.finished(failure == null && Boolean.TRUE.equals(moved));
            handOverNext(next, running, round, progress);
            if (running.decrementAndGet() == 0) {
                round.complete(null);
            }
        });
    }

    /** Hands {@code player} over in its lane (to the first of {@code targets}, or any); completes with whether it moved. */
    private CompletableFuture<Boolean> handOver(PlayerHome<S>.Active player, List<Node> targets, String reason) {
        RpcServer on = home.server();
        if (on == null) {
            return CompletableFuture.completedFuture(false);
        }
        boolean[] moved = new boolean[1];
        return on.runInLane(player.token, () -> moved[0] = handOverInLane(player, targets, reason)).thenApply(ok -> moved[0]);
    }

    private boolean handOverInLane(PlayerHome<S>.Active player, List<Node> targets, String reason) {
        if (player.ended()) {
            return false;
        }
        byte[] snapshot;
        try {
            snapshot = players.states.snapshot(player.state);
        } catch (RuntimeException | Error e) {
            log.warn("PlayerStates.snapshot of player {} on node {} threw; the player stays", player.token, nodeId, e);
            listener.notHandedOver(PlayerListener.NotMoved.FAILED);
            listener.handOverEnded(player.token, null, PlayerListener.NotMoved.FAILED, Duration.ZERO);
            return false;
        }
        if (snapshot == null) {
            return false; // no state to hand over: the player stays until it leaves or the node closes
        }
        Link from = new Link(nodeId, player.epoch);
        long started = ticker.read();
        Handoff.Moved moved = targets == null ? handoff.handOver(player.token, from, snapshot, false)
                : handoff.handOver(player.token, from, snapshot, false, targets);
        tellHandOver(moved, started);
        if (moved.handedOver()) {
            records.move(player.token, "HANDED_OVER", reason, "from " + nodeId + " (epoch " + player.epoch + ") to "
                    + moved.to().nodeId() + " under epoch " + moved.to().epoch());
            home.deactivate(player, Deactivation.MOVED);
            // Refused here from now on: the calls that waited behind this piece go on to the new owner.
            ownership.changed(player.token, service, moved.to().nodeId(), moved.to().epoch());
            handedOver.incrementAndGet();
            return true;
        }
        if (moved.elsewhere()) {
            home.deactivate(player, Deactivation.MOVED); // the link changed meanwhile: this activation is stale
        }
        return false;
    }

    /** Tells the listener how a hand-over begun at {@code started} (the ticker's reading) ended. */
    void tellHandOver(Handoff.Moved moved, long started) {
        if (moved.handedOver()) {
            listener.handedOver(moved.to().nodeId(), Duration.ofNanos(ticker.read() - started));
        } else {
            listener.notHandedOver(moved.elsewhere() ? PlayerListener.NotMoved.STALE : PlayerListener.NotMoved.STAYED);
        }
    }

    /** Players this node handed over since it started. */
    long handedOver() {
        return handedOver.get();
    }
}
