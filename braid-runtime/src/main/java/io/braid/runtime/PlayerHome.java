package io.braid.runtime;

import com.google.protobuf.MessageLite;
import io.braid.api.BraidException;
import io.braid.api.Discover;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Player;
import io.braid.api.PlayerHandler;
import io.braid.api.PlayerStates;
import io.braid.api.PlayerStore;
import io.braid.api.PlayerStates.Activation;
import io.braid.api.PlayerStates.Deactivation;
import io.braid.api.Ticker;
import io.braid.api.internal.NotServedHere;
import io.braid.api.internal.PlayerListener;
import io.braid.monitor.internal.NodeCaller;
import io.braid.rpc.internal.RpcServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active players of one node for one {@link Players} definition: their states, their timers,
 * and the end of each activation; moving them to other nodes is {@link PlayerMoves}'s (drain,
 * rebalance, by {@link Handoff}), saving them {@link PlayerSaving}'s. All work of a player (its calls, its timers, its deactivation)
 * runs in its token's lane of the node's RPC server ({@link RpcServer#handleInLane},
 * {@link RpcServer#runInLane}), one piece at a time, so neither this class nor the user's handlers
 * lock a player's state.
 *
 * <p>A player is activated only under its link: on its first call here (the cold path), the node
 * reads the token's link ({@link LinkCache#linkOfAsync}, one read, or none when the near cache
 * holds it) and activates the player under the link's epoch if the link names this node; if it
 * names another node or none (the call came through a stale cache, or the link moved meanwhile)
 * the call is refused UNAVAILABLE, as the token gate refuses, and nothing is activated. Later calls
 * (the warm path) read nothing. {@link Ownership} learns the epoch ({@link Ownership#actingUnder})
 * and ignores changes older than it.
 *
 * <p>Deactivation happens exactly once per activation, in the lane after the running piece: when
 * {@link Ownership} hears the player's link of its epoch removed (LEFT) or pointed at another node
 * under a higher epoch (MOVED; a change under its epoch or a lower one is older and ignored), when
 * no call or timer ran for the idle timeout (IDLE, checked on the node's scheduler against its
 * ticker), and when the node closes (CLOSING: {@link #deactivateAll} before the server closes, and
 * {@link #endRemaining} after it for any the lanes could not take).
 *
 * <p>Thread-safe. Cost of an active player besides its state: one {@link Active} (about 56 B) and
 * its map entry (about 40 B), plus a set while it has timers armed.
 */
final class PlayerHome<S> {
    private static final Logger log = LoggerFactory.getLogger(PlayerHome.class);
    /** How long to wait before asking a full lane again to take a deactivation. */
    private static final Duration FULL_LANE_RETRY = Duration.ofMillis(50);
    /** Players handed over together: their offers travel in one message, their outcomes in another. */
    static final int HANDOFF_BATCH = 256;
    /** Batches of hand-overs under way at once in a round (a drain, a rebalance). */
    static final int HANDOFF_BATCHES = 2;

    private final Players<S> players;
    private final String nodeId;
    private final ScheduledExecutorService scheduler;
    private final Ticker ticker;
    private final Predicate<String> mayAct;
    private final Ownership ownership;
    private final LinkCache links;
    private final String service;
    private final Duration closeWait;
    private final ConcurrentHashMap<String, Active> active = new ConcurrentHashMap<>();
    private final Handoff handoff;
    private final Discover discover;
    /** Saves and loads snapshots; null when the definition saves nothing. */
    private final PlayerSaving<S> saving;
    /** Hears activations, deactivations, hand-overs, saves and rebalance rounds (the node's meters). */
    private final PlayerListener listener;
    private volatile RpcServer server;
    private volatile boolean closing;
    /** The node drains: its players are handed over, and a cold call relocates its player instead of activating it. */
    private volatile boolean draining;
    /** The drain's and the rebalance's hand-overs. */
    private final PlayerMoves<S> moves;
    private final AtomicLong received = new AtomicLong();
    private volatile ScheduledFuture<?> idleSweep;
    private volatile ScheduledFuture<?> rebalancing;
    /** The last calls and moves of the players seen here, for the monitor. */
    private final PlayerRecords records;

    /**
     * @param mayAct    whether the node may act for a player now (the token gate: its self-fence is open
     *                  and the player was not given to another node); a timer that comes due while it
     *                  may not is dropped
     * @param ownership the node's token gate, told the epoch each player is activated under
     * @param links     where a player's link (owner and epoch) is read on its activation
     * @param closeWait how long {@link #deactivateAll} waits for the lanes to deactivate everyone
     * @param discover  where the targets of hand-overs are found
     * @param nodes     calls one node by id: the hand-over messages
     * @param store     where snapshots are saved and loaded, when the definition saves them
     * @param listener  told what happens to the players (quick, never throws)
     * @param records   where the players' last calls and moves are recorded
     * @param timeline  where the hand-over rounds' progress is told
     */
    PlayerHome(Players<S> players, String nodeId, String service, ScheduledExecutorService scheduler, Ticker ticker,
               Ownership ownership, LinkCache links, Duration closeWait, Discover discover, NodeCaller nodes,
               PlayerStore store, PlayerListener listener, PlayerRecords records, ClusterTimeline timeline) {
        this.players = players;
        this.nodeId = nodeId;
        this.service = service;
        this.ownership = ownership;
        this.links = links;
        this.mayAct = ownership::admits;
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.closeWait = closeWait;
        this.discover = discover;
        this.saving = players.saving == Players.Saving.NONE || store == null ? null
                : new PlayerSaving<>(this, players, store, nodeId, service, listener);
        this.listener = listener;
        this.records = records;
        this.handoff = new Handoff(nodeId, service, links, discover, nodes, scheduler, () -> closing, listener, ticker);
        this.moves = new PlayerMoves<>(this, players, handoff, ownership, links, discover, ticker, nodeId, service,
                listener, records, timeline);
    }

    /** Registers the player methods on {@code server} (before it starts). */
    void serveOn(RpcServer server) {
        this.server = server;
        for (Players.Method<S, ?, ?> method : players.methods) {
            register(server, method);
        }
        for (Players.Method<S, ?, ?> stream : players.streams) {
            registerStream(server, stream);
        }
        server.handleBytes(Handoff.OFFER, (ctx, request) -> handoff.offered(request, this::offerRefusal));
        server.handleBytes(Handoff.OUTCOME, (ctx, request) -> {
            // Activated now (timers re-armed, present for their first calls) rather than on those calls.
            for (String token : handoff.decided(request)) {
                server.runInLane(token, () -> activateReceived(token));
            }
            return new byte[0];
        });
        server.handleBytes(Handoff.OFFER_ONE, (ctx, request) -> handoff.offeredOne(request, this::offerRefusal));
        server.handleBytes(Handoff.OUTCOME_ONE, (ctx, request) -> {
            String token = handoff.decidedOne(request);
            if (token != null) {
                server.runInLane(token, () -> activateReceived(token));
            }
            return new byte[0];
        });
    }

    /**
     * A player stream: its read loop runs on the stream's own virtual thread, outside the lane; each
     * message runs in the token's lane (activating the player if need be), and its answer is
     * written after the piece, so the lane is never held by the stream itself or by a slow reader.
     */
    private <Q, R extends MessageLite> void registerStream(RpcServer on, Players.Method<S, Q, R> method) {
        PlayerHandler<S, Q, R> handler = method.handler();
        on.handleStream(method.name(), method.parser(), (ctx, in, out) -> {
            String token = ctx.token();
            if (token.isEmpty()) {
                throw new BraidException(Code.INVALID_ARGUMENT, "'" + method.name() + "' is a player stream: "
                        + "open it with the player's token (the empty token names no player)");
            }
            Q message;
            while ((message = in.read()) != null) {
                Q received = message;
                Object[] answer = new Object[1];
                try {
                    on.runInLane(token, () -> {
                        Active player = activeOrActivate(token, null);
                        player.begin();
                        try {
                            answer[0] = handler.handle(player, ctx, received);
                            if (players.saving == Players.Saving.WRITE_THROUGH) {
                                saving.afterCall(player);
                            }
                        } catch (RuntimeException e) {
                            throw e;
                        } catch (Exception e) {
                            throw new java.util.concurrent.CompletionException(e);
                        } finally {
                            player.finish();
                        }
                    }).join();
                } catch (CompletionException e) {
                    Throwable cause = e.getCause() instanceof CompletionException inner && inner.getCause() != null
                            ? inner.getCause() : e.getCause();
                    if (cause instanceof Exception failure) {
                        throw failure;
                    }
                    throw e;
                }
                if (answer[0] != null) {
                    @SuppressWarnings("unchecked")
                    R reply = (R) answer[0];
                    out.write(reply);
                }
            }
        });
    }

    /** Why this node refuses an offer of {@code token}'s player now, or null to take it. */
    private String offerRefusal(String token) {
        if (closing || draining) {
            return "node " + nodeId + " is " + (closing ? "closing" : "draining");
        }
        return active.containsKey(token) ? "player " + token + " is active on node " + nodeId : null;
    }

    /**
     * Starts checking for idle players and, when the definition asks for it, rebalancing, once the
     * node's close will stop them ({@link #deactivateAll}).
     */
    void startChores() {
        long idle = players.idleTimeout.toNanos();
        long every = Math.clamp(idle / 10, TimeUnit.MILLISECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(1));
        idleSweep = scheduler.scheduleWithFixedDelay(this::sweepIdle, every, every, TimeUnit.NANOSECONDS);
        if (players.rebalanceEvery != null) {
            long rebalanceEvery = players.rebalanceEvery.toNanos();
            rebalancing = scheduler.scheduleWithFixedDelay(moves::rebalance, rebalanceEvery, rebalanceEvery,
                    TimeUnit.NANOSECONDS);
        }
    }

    private <Q, R extends MessageLite> void register(RpcServer on, Players.Method<S, Q, R> method) {
        PlayerHandler<S, Q, R> handler = method.handler();
        on.handleInLane(method.name(), method.parser(), (ctx, request) -> {
            String token = ctx.token();
            if (token.isEmpty()) {
                throw new BraidException(Code.INVALID_ARGUMENT, "'" + method.name() + "' is a player method: "
                        + "call it with the player's token (the empty token names no player)");
            }
            Active player = activeOrActivate(token, ctx.deadline());
            if (ctx.deadline() != null && ctx.deadline().isExpired()) {
                // The caller has given up (DEADLINE_EXCEEDED): its call does not run after all.
                throw new BraidException(Code.DEADLINE_EXCEEDED, "the deadline of the call of player " + token
                        + " passed while node " + nodeId + " activated the player; the call did not run");
            }
            player.begin();
            long at = records.now();
            long began = ticker.read();
            String code = Code.UNKNOWN.name();
            try {
                R answer = handler.handle(player, ctx, request);
                if (players.saving == Players.Saving.WRITE_THROUGH) {
                    saving.afterCall(player);
                }
                code = Code.OK.name();
                return answer;
            } catch (BraidException e) {
                code = e.code().name();
                throw e;
            } finally {
                player.finish();
                records.call(token, method.name(), at, ticker.read() - began, code);
            }
        });
    }

    /**
     * In the token's lane: its activation, made now if it has none: from a hand-over to this node
     * (waited for while its outcome is not known, at most until {@code deadline}, the call's, if
     * any: then DEADLINE_EXCEEDED, the call did not run), else fresh under its link, which must name this
     * node. A draining node relocates the player instead (its link moves to another node, the call
     * goes on there).
     */
    private Active activeOrActivate(String token, io.braid.api.Deadline deadline) {
        Active player = active.get(token);
        if (player != null) {
            return player;
        }
        if (closing) {
            throw new BraidException(Code.UNAVAILABLE, "node " + nodeId + " is closing: player " + token
                    + " is not activated here");
        }
        Handoff.Received handedOver = handoff.awaitOffer(token, deadline);
        if (handedOver != null) {
            return activate(token, handedOver);
        }
        if (!mayAct.test(token)) {
            throw new NotServedHere("player " + token + " was given to another node; the call did not run on node "
                    + nodeId + ", try again", ownership.movedTo(token).orElse(null));
        }
        long epoch = linkedHereUnder(token);
        if (draining) {
            long started = ticker.read();
            Handoff.Moved moved = handoff.handOver(token, new Link(nodeId, epoch), new byte[0], true);
            moves.tellHandOver(moved, started);
            if (moved.handedOver()) {
                ownership.changed(token, service, moved.to().nodeId(), moved.to().epoch());
                records.move(token, "RELOCATED", "drain", "a cold call while draining: to " + moved.to().nodeId()
                        + " under epoch " + moved.to().epoch());
            }
            if (moved.handedOver() || moved.elsewhere()) {
                throw new NotServedHere("player " + token + " is served by "
                        + (moved.to() == null ? "no node" : "node " + moved.to().nodeId()) + " now (node " + nodeId
                        + " drains); the call did not run, try again", moved.to());
            }
        }
        return activateSavedOrFresh(token, epoch);
    }

    /**
     * In the token's lane: activates the player under {@code epoch} from its saved snapshot when a
     * store is used and holds one (STORE), else afresh. A store that cannot be read refuses the
     * call UNAVAILABLE (the handler did not run) rather than activate a fresh state over a saved one.
     */
    private Active activateSavedOrFresh(String token, long epoch) {
        if (saving == null) {
            return activate(token, epoch, Activation.FRESH, null);
        }
        Optional<PlayerStore.Saved> saved = saving.load(token);
        return saved.isPresent() ? activate(token, epoch, Activation.STORE, saved.get().snapshot())
                : activate(token, epoch, Activation.FRESH, null);
    }

    /** In the token's lane: activates the player an outcome said moved here, unless it is active already. */
    private void activateReceived(String token) {
        if (active.containsKey(token) || closing) {
            return;
        }
        Handoff.Received handedOver = handoff.awaitOffer(token, null);
        if (handedOver == null) {
            return;
        }
        try {
            activate(token, handedOver);
        } catch (RuntimeException e) {
            log.warn("player {} handed over to node {} under epoch {} could not be activated; its next call "
                    + "activates it", token, nodeId, handedOver.epoch(), e);
        }
    }

    private Active activate(String token, Handoff.Received handedOver) {
        // The link names this node under that epoch: the gate admits the player again (it may have
        // been given away earlier) and ends an activation under a lower epoch.
        ownership.changed(token, service, nodeId, handedOver.epoch());
        received.incrementAndGet();
        listener.received();
        records.move(token, "RECEIVED", "HANDOFF", "handed over to " + nodeId + " under epoch " + handedOver.epoch()
                + (handedOver.noState() ? " (no state)" : ""));
        return handedOver.noState() ? activateSavedOrFresh(token, handedOver.epoch())
                : activate(token, handedOver.epoch(), Activation.HANDOFF, handedOver.snapshot());
    }

    /** In the token's lane: activates the player under {@code epoch} (its link names this node with it). */
    private Active activate(String token, long epoch, Activation how, byte[] snapshot) {
        S state;
        try {
            state = players.states.activate(token, how, snapshot);
        } catch (BraidException e) {
            throw e;
        } catch (Exception e) {
            throw new BraidException(Code.UNAVAILABLE, "activating player " + token + " on node " + nodeId
                    + " failed (the call did not run): " + e);
        }
        if (state == null) {
            throw new BraidException(Code.INTERNAL, "PlayerStates.activate returned null for player " + token);
        }
        Active player = new Active(token, epoch, state);
        ownership.actingUnder(token, epoch);
        active.put(token, player);
        listener.activated(how);
        records.move(token, "ACTIVATED", how.name(), "on " + nodeId + " under epoch " + epoch);
        if (!mayAct.test(token)) {
            // Moved while it was being activated (the change came before this activation was in
            // place, so it ended nothing): end it here, the call was not served.
            deactivate(player, Deactivation.MOVED);
            throw new NotServedHere("player " + token + " moved to another node while node " + nodeId
                    + " activated it; the call did not run, try again", ownership.movedTo(token).orElse(null));
        }
        player.begin();
        try {
            players.states.activated(player);
        } catch (Exception | Error e) {
            log.warn("PlayerStates.activated of player {} on node {} threw; the player stays active", token, nodeId, e);
        } finally {
            player.finish();
        }
        if (players.saving == Players.Saving.PERIODIC) {
            player.arm(players.saveInterval, p -> saving.periodically(player), true);
        }
        return player;
    }

    /**
     * In the token's lane, before activating it: the epoch of the token's link, which must name
     * this node. Refuses the call UNAVAILABLE (retryable: the handler did not run) when the link
     * names another node or none ({@link NotServedHere}, naming that link: the caller's client sends
     * the call on), or cannot be read.
     */
    private long linkedHereUnder(String token) {
        Optional<Link> link;
        try {
            link = links.linkOfAsync(token, service).join();
        } catch (CompletionException e) {
            BraidException cause = BraidException.from(e);
            throw new BraidException(Code.UNAVAILABLE, "player " + token + " is not activated on node " + nodeId
                    + ": its link could not be read (" + cause.getMessage() + "); the call did not run, try again");
        }
        if (link.isEmpty() || !link.get().nodeId().equals(nodeId)) {
            throw new NotServedHere("player " + token + " is not activated on node " + nodeId
                    + ": its link names " + link.map(l -> "node " + l.nodeId() + " (epoch " + l.epoch() + ")")
                    .orElse("no node") + "; the call did not run, try again", link.orElse(null));
        }
        return link.get().epoch();
    }

    /**
     * Ownership heard that {@code token}'s player left (its link of {@code epoch} was removed) or
     * moved (linked to another node, or away and back here, under {@code epoch}): ends its
     * activation in its lane, unless the change is not newer than the activation (a move under its
     * epoch or a lower one, a removal of a link below its epoch). An epoch of 0 is not known and
     * taken as newer.
     */
    void gone(String token, Deactivation why, long epoch) {
        Active player = active.get(token);
        if (player == null) {
            return;
        }
        boolean older = epoch > 0 && (why == Deactivation.LEFT ? epoch < player.epoch : epoch <= player.epoch);
        if (older) {
            log.debug("player {} on node {}: {} under epoch {} is older than its activation (epoch {}): ignored",
                    token, nodeId, why, epoch, player.epoch);
            return;
        }
        endInLane(player, why);
    }

    /**
     * What this node knows of {@code token}'s player, for the monitor: active here (and under which
     * epoch), the calls waiting in its lane, its last calls and its moves through this node.
     */
    io.braid.api.internal.PlayerReport report(String token, java.util.Map<String, String> extra) {
        Active player = active.get(token);
        RpcServer on = server;
        PlayerRecords.Recorded recorded = records.of(token);
        return new io.braid.api.internal.PlayerReport(true, player != null && !player.ended(),
                player == null ? 0 : player.epoch, on == null ? 0 : on.laneWaiting(token), recorded.calls(),
                recorded.moves(), extra);
    }

    /** The tokens of the players active now (a copy). */
    Set<String> activeTokens() {
        return Set.copyOf(active.keySet());
    }

    private void endInLane(Active player, Deactivation why) {
        RpcServer on = server;
        if (on == null) {
            return;
        }
        on.runInLane(player.token, () -> deactivate(player, why)).whenComplete((ok, failure) -> {
            Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
            if (cause instanceof BraidException refused && refused.code() == Code.RESOURCE_EXHAUSTED
                    && !player.ended() && !closing) {
                scheduler.schedule(() -> endInLane(player, why), FULL_LANE_RETRY.toMillis(), TimeUnit.MILLISECONDS);
            } else if (cause != null && !(cause instanceof BraidException)) {
                log.warn("deactivating player {} ({}) on node {} failed", player.token, why, nodeId, cause);
            }
        });
    }

    /**
     * Ends {@code player}'s activation unless it has ended already: it leaves the active players,
     * its timers are cancelled, and the user's deactivate runs. In its lane (or after the lanes
     * have closed).
     */
    void deactivate(Active player, Deactivation why) {
        if (!player.end()) {
            return;
        }
        active.remove(player.token, player);
        listener.deactivated(why);
        records.move(player.token, "DEACTIVATED", why.name(), "on " + nodeId + " (epoch " + player.epoch + ")");
        player.cancelTimers();
        if (saving != null && why != Deactivation.MOVED) {
            saving.onDeactivation(player, why);
        }
        try {
            players.states.deactivate(player.state, why);
        } catch (Exception | Error e) {
            log.warn("PlayerStates.deactivate of player {} ({}) on node {} threw", player.token, why, nodeId, e);
        }
    }

    private void sweepIdle() {
        long idle = players.idleTimeout.toNanos();
        long now = ticker.read();
        for (Active player : active.values()) {
            if (player.idleAt(now, idle)) {
                server.runInLane(player.token, () -> {
                    if (player.idleAt(ticker.read(), idle)) {
                        deactivate(player, Deactivation.IDLE);
                    }
                }); // refused (full, closing): the next sweep asks again, or the close ends it
            }
        }
    }

    /** The node drains: hand-overs begin (see {@link PlayerMoves#drainStarted}). */
    void drainStarted() {
        draining = true;
        moves.drainStarted();
    }

    boolean drained() {
        return moves.drained();
    }

    boolean handingOver() {
        return moves.handingOver();
    }

    CompletableFuture<Long> releaseRemainingLinks() {
        return moves.releaseRemainingLinks();
    }

    /** Players this node handed over, and players handed over to it and activated here, since it started. */
    long handedOver() {
        return moves.handedOver();
    }

    /** The players active here now (a live view, for the hand-overs). */
    java.util.Collection<Active> activePlayers() {
        return active.values();
    }

    RpcServer server() {
        return server;
    }

    boolean isClosing() {
        return closing;
    }

    boolean isDraining() {
        return draining;
    }

    long received() {
        return received.get();
    }

    /**
     * The node is closing (its token gate is closed, the server not yet): no activation from now
     * on, and every active player is deactivated with CLOSING in its lane, after its running piece.
     * Waits for that at most the close wait.
     */
    void deactivateAll() {
        closing = true;
        for (ScheduledFuture<?> chore : new ScheduledFuture<?>[] {idleSweep, rebalancing}) {
            if (chore != null) {
                chore.cancel(false);
            }
        }
        RpcServer on = server;
        if (on == null) {
            return;
        }
        List<CompletableFuture<Void>> ends = new ArrayList<>();
        for (Active player : active.values()) {
            ends.add(on.runInLane(player.token, () -> deactivate(player, Deactivation.CLOSING)));
        }
        try {
            CompletableFuture.allOf(ends.toArray(new CompletableFuture<?>[0]))
                    .get(closeWait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.warn("node {} closing: {} players not deactivated within {}; they are after the server closes",
                    nodeId, active.size(), closeWait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception failed) {
            // some lane refused (full): endRemaining deactivates them once the server has closed
        }
    }

    /** After the server closed (no piece runs any more): deactivates with CLOSING whoever is still active. */
    void endRemaining() {
        closing = true;
        for (Active player : active.values()) {
            deactivate(player, Deactivation.CLOSING);
        }
    }

    /** Players active now. */
    int activeCount() {
        return active.size();
    }

    /** One activation of one player: the {@link Player} its handlers and timers get. */
    final class Active implements Player<S> {
        private static final AtomicIntegerFieldUpdater<PlayerHome.Active> ENDED =
                AtomicIntegerFieldUpdater.newUpdater(PlayerHome.Active.class, "ended");

        final String token;
        final long epoch;
        final S state;
        /** The ticker's reading when a piece of its work last began or ended. */
        private volatile long lastUsed;
        /** The thread running a piece of its work now; null between pieces. */
        private volatile Thread turn;
        private volatile int ended;
        /** Its armed timers; made at the first, guarded by this. */
        private Set<LaneTimer> timers;

        Active(String token, long epoch, S state) {
            this.token = token;
            this.epoch = epoch;
            this.state = state;
            this.lastUsed = ticker.read();
        }

        @Override
        public String token() {
            return token;
        }

        @Override
        public long epoch() {
            return epoch;
        }

        @Override
        public S state() {
            return state;
        }

        @Override
        public Timer after(Duration delay, Consumer<Player<S>> action) {
            if (Thread.currentThread() != turn) {
                throw new IllegalStateException("player " + token + ": after() may be called only in the player's "
                        + "lane (in its handler or timer, on that thread)");
            }
            if (delay == null || delay.isNegative() || action == null) {
                throw new IllegalArgumentException("player " + token + ": after() needs a delay of 0 or more and an "
                        + "action, was " + delay + (action == null ? " and no action" : ""));
            }
            return arm(delay, action, false);
        }

        /** Arms a timer; an {@code internal} one (a periodic save) does not count as use for the idle timeout. */
        LaneTimer arm(Duration delay, Consumer<Player<S>> action, boolean internal) {
            LaneTimer timer = new LaneTimer(this, action, internal);
            synchronized (this) {
                if (timers == null) {
                    timers = new HashSet<>(4);
                }
                timers.add(timer);
            }
            timer.armed(scheduler.schedule(() -> fire(timer), delay.toNanos(), TimeUnit.NANOSECONDS));
            return timer;
        }

        private void fire(LaneTimer timer) {
            server.runInLane(token, () -> runTimer(timer)).whenComplete((ok, failure) -> {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                if (cause instanceof BraidException refused) {
                    forget(timer);
                    if (!ended() && !closing) {
                        log.warn("a timer of player {} on node {} was dropped: {}", token, nodeId, refused.getMessage());
                    }
                }
            });
        }

        /** In the lane. */
        private void runTimer(LaneTimer timer) {
            forget(timer);
            if (ended() || !timer.start()) {
                return;
            }
            if (!mayAct.test(token)) {
                log.warn("a timer of player {} on node {} was dropped: the node may not act for the player now (its "
                        + "self-fence is closed, or the player was given to another node)", token, nodeId);
                return;
            }
            long used = lastUsed;
            begin();
            try {
                timer.action.accept(this);
            } catch (RuntimeException | Error e) {
                log.warn("a timer of player {} on node {} threw", token, nodeId, e);
            } finally {
                finish();
                if (timer.internal) {
                    lastUsed = used;
                }
            }
        }

        private synchronized void forget(LaneTimer timer) {
            if (timers != null) {
                timers.remove(timer);
            }
        }

        private void cancelTimers() {
            List<LaneTimer> armed;
            synchronized (this) {
                if (timers == null) {
                    return;
                }
                armed = List.copyOf(timers);
                timers = null;
            }
            for (LaneTimer timer : armed) {
                timer.cancel();
            }
        }

        void begin() {
            turn = Thread.currentThread();
            lastUsed = ticker.read();
        }

        void finish() {
            lastUsed = ticker.read();
            turn = null;
        }

        boolean idleAt(long now, long idleNanos) {
            return ended == 0 && turn == null && now - lastUsed >= idleNanos;
        }

        /** True for the one caller that ends this activation. */
        boolean end() {
            return ENDED.compareAndSet(this, 0, 1);
        }

        boolean ended() {
            return ended != 0;
        }

        @Override
        public String toString() {
            return "Player{" + token + "@" + epoch + "}";
        }
    }

    /** A timer of one activation: armed, then started or cancelled (exactly one of the two). */
    private final class LaneTimer implements Player.Timer {
        final Consumer<Player<S>> action;
        /** The node's own (a periodic save): its run is no use of the player (idle timeout). */
        final boolean internal;
        private final Active player;
        private ScheduledFuture<?> scheduled;
        /** 0 armed, 1 started, 2 cancelled. */
        private int phase;

        LaneTimer(Active player, Consumer<Player<S>> action, boolean internal) {
            this.player = player;
            this.action = Objects.requireNonNull(action);
            this.internal = internal;
        }

        synchronized void armed(ScheduledFuture<?> scheduled) {
            this.scheduled = scheduled;
            if (phase == 2) {
                scheduled.cancel(false);
            }
        }

        synchronized boolean start() {
            if (phase != 0) {
                return false;
            }
            phase = 1;
            return true;
        }

        @Override
        public boolean cancel() {
            ScheduledFuture<?> pending;
            synchronized (this) {
                if (phase != 0) {
                    return false;
                }
                phase = 2;
                pending = scheduled;
            }
            if (pending != null) {
                pending.cancel(false);
            }
            player.forget(this);
            return true;
        }

        @Override
        public String toString() {
            return "Timer{" + player.token + "}";
        }
    }
}
