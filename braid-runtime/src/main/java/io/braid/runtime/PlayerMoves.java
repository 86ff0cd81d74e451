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
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a node's active players to other nodes of its service: every one of them when the node
 * drains ({@link #drainStarted}, rounds until none is left), or a bounded share toward the other
 * nodes' shares by weight ({@link #rebalance}). Each move is a {@link Handoff} made in the
 * player's lane, in batches ({@link Batch}: one offer message and one outcome message per batch and target);
 * one round at a time.
 * Thread-safe.
 *
 * @param <S> the state of one player
 */
final class PlayerMoves<S> {
    private static final Logger log = LoggerFactory.getLogger(PlayerMoves.class);
    /** How long a batch waits for its players' lanes to take their pieces before it leaves without the late ones. */
    static final Duration GATHER_WAIT = Duration.ofMillis(200);
    /** How long the outcomes settled so far wait for the next one before they are told. */
    static final Duration SETTLE_LINGER = Duration.ofMillis(1);

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
     * Hands every active player over, in batches ({@link #runRound}; a drain is no storm):
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

    /**
     * Runs {@code moves} as the round under way: in batches of up to {@value PlayerHome#HANDOFF_BATCH}
     * players (of one target list each), {@value PlayerHome#HANDOFF_BATCHES} batches at a time.
     */
    private void runRound(List<Move> moves, String reason) {
        ClusterTimeline.HandoffRound progress = timeline.handoffRound(reason, moves.size());
        Iterator<List<Move>> next = batches(moves).iterator();
        CompletableFuture<Void> round = new CompletableFuture<>();
        AtomicInteger running = new AtomicInteger(1);
        handoffRound = round;
        for (int i = 0; i < PlayerHome.HANDOFF_BATCHES; i++) {
            runNext(next, running, round, progress);
        }
        if (running.decrementAndGet() == 0) {
            round.complete(null);
        }
    }

    /** {@code moves} cut into batches of up to {@value PlayerHome#HANDOFF_BATCH}, each of moves naming the same targets. */
    private static List<List<Move>> batches(List<Move> moves) {
        List<List<Move>> batches = new ArrayList<>();
        List<Move> batch = new ArrayList<>();
        for (Move move : moves) {
            if (batch.size() == PlayerHome.HANDOFF_BATCH
                    || (!batch.isEmpty() && !Objects.equals(batch.get(0).targets(), move.targets()))) {
                batches.add(batch);
                batch = new ArrayList<>();
            }
            batch.add(move);
        }
        if (!batch.isEmpty()) {
            batches.add(batch);
        }
        return batches;
    }

    private void runNext(Iterator<List<Move>> next, AtomicInteger running, CompletableFuture<Void> round,
                         ClusterTimeline.HandoffRound progress) {
        List<Move> batch;
        synchronized (next) {
            if (!next.hasNext()) {
                return;
            }
            batch = next.next();
        }
        running.incrementAndGet();
        Thread.ofVirtual().name("braid-handoff-" + nodeId).start(() -> {
            try {
                new Batch(batch, progress).run();
            } catch (RuntimeException | Error e) {
                log.warn("a batch of {} hand-overs on node {} failed; its players stay", batch.size(), nodeId, e);
            } finally {
                if (!home.isClosing()) {
                    runNext(next, running, round, progress);
                }
                if (running.decrementAndGet() == 0) {
                    round.complete(null);
                }
            }
        });
    }

    /**
     * One batch of hand-overs, run on a virtual thread of its own. Each player's piece, in its lane
     * (after its running piece, while its later calls wait), snapshots it and waits. Once every
     * piece is in, or {@link #GATHER_WAIT} has passed (a piece later than that does nothing: its
     * player stays for the next round), the snapshots go to a target in one offer message; those it
     * refused go to the next target. Each piece a target took then moves its player's link itself
     * ({@link Handoff#settle}, a compare-and-set per player) and, moved, ends the activation here and
     * lets its lane go (the calls that waited go on to the target, which holds them until it hears
     * the outcome). Each target hears the outcomes of its players as they settle, those settled
     * meanwhile in one message ({@link Handoff#tellAll}; normally one for the whole batch): a move
     * that takes long delays only its own. The round hears each player's end exactly once.
     */
    private final class Batch {
        private final List<Move> moves;
        private final ClusterTimeline.HandoffRound progress;
        private final CountDownLatch in;
        /** The pieces in with a snapshot, in arrival order; guarded by this. */
        private final List<Piece> arrived = new ArrayList<>();
        /** No piece joins any more; guarded by this. */
        private boolean sealed;
        /** The pieces a target took, once their moves settled, for {@link #tellAsTheySettle}. */
        private final BlockingQueue<Piece> settled = new LinkedBlockingQueue<>();

        Batch(List<Move> moves, ClusterTimeline.HandoffRound progress) {
            this.moves = moves;
            this.progress = progress;
            this.in = new CountDownLatch(moves.size());
        }

        void run() {
            List<Piece> pieces = new ArrayList<>(moves.size());
            List<CompletableFuture<Void>> lanes = new ArrayList<>(moves.size());
            List<Piece> offered = List.of();
            Map<Node, List<Piece>> took = new LinkedHashMap<>();
            try {
                RpcServer on = home.server();
                for (Move move : moves) {
                    @SuppressWarnings("unchecked")
                    Piece piece = new Piece((PlayerHome<S>.Active) move.player(), move.reason());
                    pieces.add(piece);
                    if (on == null || home.isClosing()) {
                        piece.arrive(this, false);
                        continue;
                    }
                    lanes.add(on.runInLane(piece.player.token, () -> piece.inLane(this))
                            .whenComplete((ok, failure) -> piece.arrive(this, false)));
                }
                awaitPieces();
                synchronized (this) {
                    sealed = true;
                    offered = List.copyOf(arrived);
                }
                List<Node> targets = moves.get(0).targets() != null ? moves.get(0).targets()
                        : handoff.targets(Handoff.TARGETS_PER_PLAYER);
                List<Piece> left = offered;
                for (Node target : targets) {
                    if (left.isEmpty() || home.isClosing()) {
                        break;
                    }
                    List<Handoff.Offering> offerings = new ArrayList<>(left.size());
                    for (Piece piece : left) {
                        piece.offeredTo = target.id();
                        offerings.add(piece.offering);
                    }
                    boolean[] accepted = handoff.offerAll(target, offerings);
                    List<Piece> refused = new ArrayList<>();
                    for (int i = 0; i < left.size(); i++) {
                        if (accepted[i]) {
                            Piece piece = left.get(i);
                            took.computeIfAbsent(target, t -> new ArrayList<>()).add(piece);
                            piece.firstMove = handoff.move(piece.player.token, piece.offering.from(), target);
                            piece.target.complete(target);
                        } else {
                            refused.add(left.get(i));
                        }
                    }
                    left = refused;
                }
            } finally {
                for (Piece piece : offered) {
                    piece.target.complete(null); // no target took it (or the batch failed): it stays
                }
            }
            tellAsTheySettle(took.values().stream().mapToInt(List::size).sum());
            CompletableFuture.allOf(lanes.toArray(CompletableFuture<?>[]::new)).exceptionally(failure -> null).join();
            for (Piece piece : pieces) {
                progress.finished(piece.wentOver);
            }
        }

        /**
         * Tells the targets the outcomes of the {@code taken} pieces a target took, as they settle:
         * whatever settled meanwhile goes in one message per target, so a move that takes long (Redis
         * away) delays only its own outcome, never the others' past their offers' expiry.
         */
        private void tellAsTheySettle(int taken) {
            int told = 0;
            while (told < taken) {
                List<Piece> ready = new ArrayList<>();
                try {
                    ready.add(settled.take());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                // Those settling right after it come along, while they keep coming (at most a
                // millisecond apart): normally the whole batch, while a slow move waits for no one.
                try {
                    Piece next;
                    while (told + ready.size() < taken
                            && (next = settled.poll(SETTLE_LINGER.toNanos(), TimeUnit.NANOSECONDS)) != null) {
                        ready.add(next);
                        settled.drainTo(ready);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                told += ready.size();
                Map<Node, List<Piece>> byTarget = new LinkedHashMap<>();
                for (Piece piece : ready) {
                    byTarget.computeIfAbsent(piece.target.join(), t -> new ArrayList<>()).add(piece);
                }
                byTarget.forEach((target, players) -> {
                    List<Handoff.Offering> offerings = new ArrayList<>(players.size());
                    Handoff.Moved[] moved = new Handoff.Moved[players.size()];
                    for (int i = 0; i < players.size(); i++) {
                        offerings.add(players.get(i).offering);
                        moved[i] = players.get(i).moved;
                    }
                    handoff.tellAll(target, offerings, moved);
                });
            }
        }

        /** Waits until every piece is in, at most {@link #GATHER_WAIT}. */
        private void awaitPieces() {
            try {
                if (!in.await(GATHER_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
                    log.debug("node {}: {} of {} players of a hand-over batch were not in within {}; they stay for "
                            + "the next round", nodeId, in.getCount(), moves.size(), GATHER_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** {@code piece} is in, with a snapshot to offer or not; false when it came too late (or was in already). */
        private synchronized boolean join(Piece piece, boolean offer) {
            if (sealed) {
                return false;
            }
            if (offer) {
                arrived.add(piece);
            }
            in.countDown();
            return offer;
        }
    }

    /** One player of a {@link Batch}. */
    private final class Piece {
        final PlayerHome<S>.Active player;
        final String reason;
        private final AtomicBoolean in = new AtomicBoolean();
        /** The target that took the offer, or null: none did. Completed by the batch. */
        final CompletableFuture<Node> target = new CompletableFuture<>();
        /** Written in the lane before the piece joins the batch. */
        Handoff.Offering offering;
        /** The last target offered the player, for the listener; written by the batch before {@link #target} completes. */
        volatile String offeredTo;
        /** The first compare-and-set of its link, asked by the batch; written before {@link #target} completes. */
        CompletableFuture<Optional<Link>> firstMove;
        /** How its move ended; null when it was not offered or no target took it. */
        volatile Handoff.Moved moved;
        volatile boolean wentOver;

        Piece(PlayerHome<S>.Active player, String reason) {
            this.player = player;
            this.reason = reason;
        }

        /** Joins {@code batch} once (false: in already, or too late); a piece that will not be offered joins with {@code offer} false. */
        boolean arrive(Batch batch, boolean offer) {
            return in.compareAndSet(false, true) && batch.join(this, offer);
        }

        /** In the player's lane: snapshot, wait for the batch's offer, move the link, let go of the player. */
        void inLane(Batch batch) {
            if (player.ended()) {
                arrive(batch, false);
                return;
            }
            byte[] snapshot;
            try {
                snapshot = players.states.snapshot(player.state);
            } catch (RuntimeException | Error e) {
                arrive(batch, false);
                log.warn("PlayerStates.snapshot of player {} on node {} threw; the player stays", player.token, nodeId, e);
                listener.notHandedOver(PlayerListener.NotMoved.FAILED);
                listener.handOverEnded(player.token, null, PlayerListener.NotMoved.FAILED, Duration.ZERO);
                return;
            }
            if (snapshot == null) {
                arrive(batch, false); // no state to hand over: the player stays until it leaves or the node closes
                return;
            }
            Link from = new Link(nodeId, player.epoch);
            offering = new Handoff.Offering(player.token, from, snapshot, false);
            long started = ticker.read();
            if (!arrive(batch, true)) {
                return; // the batch left without it: the player stays for the next round
            }
            Node to = target.join();
            if (to == null) {
                settledAs(Handoff.Moved.STAYED, started);
                return;
            }
            try {
                settledAs(handoff.settle(player.token, from, to, firstMove), started);
            } finally {
                batch.settled.add(this); // its target hears the outcome (none when not known)
            }
        }

        /** In the lane: how the player's hand-over ended, told and acted on. */
        private void settledAs(Handoff.Moved outcome, long started) {
            moved = outcome;
            listener.handOverEnded(player.token, outcome.to() != null ? outcome.to().nodeId() : offeredTo,
                    outcome.handedOver() ? null : outcome.elsewhere() ? PlayerListener.NotMoved.STALE
                            : PlayerListener.NotMoved.STAYED, Duration.ofNanos(ticker.read() - started));
            tellHandOver(outcome, started);
            if (outcome.handedOver()) {
                records.move(player.token, "HANDED_OVER", reason, "from " + nodeId + " (epoch " + player.epoch
                        + ") to " + outcome.to().nodeId() + " under epoch " + outcome.to().epoch());
                home.deactivate(player, Deactivation.MOVED);
                // Refused here from now on: the calls that waited behind this piece go on to the new owner,
                // which holds them until it hears the outcome.
                ownership.changed(player.token, service, outcome.to().nodeId(), outcome.to().epoch());
                handedOver.incrementAndGet();
                wentOver = true;
            } else if (outcome.elsewhere()) {
                home.deactivate(player, Deactivation.MOVED); // the link changed meanwhile: this activation is stale
            }
        }
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
