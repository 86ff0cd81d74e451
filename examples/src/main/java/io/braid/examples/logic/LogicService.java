package io.braid.examples.logic;

import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.CallOptions;
import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.Player;
import io.braid.api.PlayerStates;
import io.braid.examples.NodeSettings;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.PlayerPusher;
import io.braid.examples.proto.ActReply;
import io.braid.examples.proto.ActRequest;
import io.braid.examples.proto.LoginReply;
import io.braid.examples.proto.LoginRequest;
import io.braid.examples.proto.LogoutReply;
import io.braid.examples.proto.LogoutRequest;
import io.braid.examples.proto.NodeStats;
import io.braid.examples.proto.PlayerPush;
import io.braid.examples.proto.Reward;
import io.braid.gateway.Gateway;
import io.braid.gateway.SessionEvent;
import io.braid.runtime.Braid;
import io.braid.runtime.Players;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The logic service: each player's state lives on the one node the player's token is linked to,
 * in the player's lane ({@link Players}): the calls and timers of one player run one at a time, in
 * arrival order, so the handlers change the state ({@code PlayerState}: plain fields) without locks, and
 * different players run in parallel. Methods (all player methods, routed by the player's token; the
 * empty token is refused INVALID_ARGUMENT):
 * <ul>
 *   <li>{@value #LOGIN}: the first call of a token on this node activates its state (FRESH); login
 *       says whether the player was already here ({@code resumed}) and, once per player state, arms a
 *       reward ({@link Player#after}) that runs in the player's lane a few seconds later and pushes
 *       it to the player with braid-gateway's push ({@link PlayerPusher}: routed by the player's
 *       token to the gateway that holds the player's session);</li>
 *   <li>{@value #ACT}: a click adds one to the player's counter; a player whose state was just
 *       made by this call without a login here (its old node died) begins anew and says so
 *       ({@code recovered});</li>
 *   <li>{@value #LOGOUT}: answers the player's final counter and gold and unlinks the token, so the
 *       player's next login may land anywhere; it resets the state at once (a call before the next
 *       step finds it fresh) and the node deactivates the player (LEFT) when the unlink reaches it.</li>
 * </ul>
 * A player idle for {@link #IDLE_TIMEOUT} is deactivated (IDLE) and begins anew at its next call.
 * A player whose gateway session ends without a logout (its resume grace over: CLOSED on
 * {@link Gateway#SESSIONS_TOPIC}, which every logic node reads through a channel of its own) is
 * logged out by the node that holds it; an end of a session that is no longer the player's
 * current one (a late CLOSED after a new login) changes nothing. Such a logout of a session that
 * had been resumed is counted ({@link #resumedPlayersLoggedOut()}): a resume must spare the player.
 * {@code PlayerState.snapshot()} and {@code PlayerState.restore} turn a player's state into bytes
 * and back: a draining node hands each player over to another node with its snapshot
 * (HANDOFF), so its clicks and owed reward go on there. Each activation is recorded
 * ({@link #activations()}) for the demo's check that no player was served by two nodes at once.
 *
 * <p>Every second the node publishes its {@link NodeStats} on topic {@value #STATS_TOPIC}, on the
 * node's scheduler, which this service lends to the node (its player timers run there too) and
 * shuts down after the node closed.
 *
 * <p>Thread-safe: the player state is touched only in its lane; the node-wide counters
 * ({@link #playersOnline()}, {@link #tokensServed()}, {@link #callsServed()}, {@link #rewardsPushed()})
 * are lock-free. {@link #close()} is idempotent.
 */
public final class LogicService implements AutoCloseable {
    public static final String SERVICE = "logic";
    public static final String LOGIN = "player.login";
    public static final String ACT = "player.act";
    public static final String LOGOUT = "player.logout";
    public static final String STATS_TOPIC = "demo.stats";
    /** How long a player stays active with no call: the longest the node allows, as no store keeps it yet. */
    public static final Duration IDLE_TIMEOUT = Players.MAX_IDLE_TIMEOUT;

    public static final Setting REWARD_SECONDS = new Setting("--reward-seconds", "LOGIC_REWARD_SECONDS", "3",
            "seconds after login when the player gets a reward pushed; 0 = never");
    public static final Setting DRAIN_SECONDS = new Setting("--drain-seconds", "BRAID_DRAIN_SECONDS", "30",
            "on SIGTERM, how long the node waits for its players to leave before it closes");
    public static final List<Setting> SETTINGS = Stream.concat(NodeSettings.ALL.stream(),
            Stream.of(REWARD_SECONDS, DRAIN_SECONDS)).toList();

    static final long REWARD_GOLD = 10;
    private static final Logger log = LoggerFactory.getLogger(LogicService.class);
    /** The reason of the CLOSED event of a session that ended with the player's own Logout. */
    static final String LOGGED_OUT = "logged out";
    private static final CallOptions SELF_CALL = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));

    private final AtomicInteger playersOnline = new AtomicInteger();
    private final Set<String> tokensServed = new ConcurrentSkipListSet<>();
    private final LongAdder callsServed = new LongAdder();
    private final LongAdder rewardsPushed = new LongAdder();
    private final LongAdder playersReceived = new LongAdder();
    private final Activations activations = new Activations();
    /** Players active on this node now, by token. */
    private final Set<String> active = ConcurrentHashMap.newKeySet();
    /** Every player's current gateway session, as the session events told: token → session. */
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final LongAdder sessionsEndedByGateway = new LongAdder();
    private final LongAdder resumedPlayersLoggedOut = new LongAdder();
    private final Duration rewardAfter;
    private final ScheduledExecutorService scheduler;
    private volatile Braid braid;
    private PlayerPusher pusher;
    private Channel sessionEvents;

    /** A gateway session of a player: its id, and whether it was resumed after a drop. */
    private record Session(String id, boolean resumed) {
    }

    private LogicService(Duration rewardAfter) {
        this.rewardAfter = rewardAfter;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("logic-scheduler").factory());
    }

    /**
     * Starts a logic node from {@code builder} (service, plane and address already set; this adds
     * the player methods, sets the service name and lends the node its scheduler).
     */
    public static LogicService start(Braid.Builder builder, Duration rewardAfter) {
        LogicService logic = new LogicService(rewardAfter);
        Players<PlayerState> players = Players.of(logic.new States())
                .handle(LOGIN, LoginRequest.parser(), logic::login)
                .handle(ACT, ActRequest.parser(), logic::act)
                .handle(LOGOUT, LogoutRequest.parser(), logic::logout)
                .idleTimeout(IDLE_TIMEOUT);
        try {
            logic.braid = builder.service(SERVICE).scheduler(logic.scheduler).players(players).start();
        } catch (RuntimeException e) {
            logic.scheduler.shutdownNow();
            throw e;
        }
        logic.pusher = new PlayerPusher(logic.braid);
        try {
            logic.sessionEvents = logic.braid.topic(Gateway.SESSIONS_TOPIC)
                    .subscribe(logic.nodeId(), ChannelOptions.DEFAULT.withDurable(false));
            logic.sessionEvents.onMessage(message -> logic.sessionEvent(SessionEvent.parse(message.body())));
        } catch (RuntimeException e) {
            logic.close();
            throw e;
        }
        logic.scheduler.scheduleAtFixedRate(logic::publishStats, 1, 1, TimeUnit.SECONDS);
        return logic;
    }

    public Braid braid() {
        return braid;
    }

    public String nodeId() {
        return braid.node().id();
    }

    /** The players active on this node now. */
    public int playersOnline() {
        return playersOnline.get();
    }

    /** Every token this node has activated a player for since it started. */
    public Set<String> tokensServed() {
        return Set.copyOf(tokensServed);
    }

    public long callsServed() {
        return callsServed.sum();
    }

    public long rewardsPushed() {
        return rewardsPushed.sum();
    }

    /** The rewards pushed: what the gateways accepted, what failed. */
    public PlayerPusher pusher() {
        return pusher;
    }

    /** Players this node logged out because their gateway session ended without a logout. */
    public long sessionsEndedByGateway() {
        return sessionsEndedByGateway.sum();
    }

    /**
     * Of {@link #sessionsEndedByGateway()}, those whose session had been resumed: each one a
     * player the gateways failed to keep across a drop (the demo's check wants 0).
     */
    public long resumedPlayersLoggedOut() {
        return resumedPlayersLoggedOut.sum();
    }

    /** Players another node handed over to this one (activated here from its snapshot) since it started. */
    public long playersReceived() {
        return playersReceived.sum();
    }

    /**
     * This node's record of each activation: when it served, and how activations ended, for the
     * check that no player was served by two nodes at once ({@link Activations#servedByTwoAtOnce}).
     */
    public Activations activations() {
        return activations;
    }

    public NodeStats stats() {
        return NodeStats.newBuilder().setNode(nodeId()).setPlayersOnline(playersOnline())
                .setPlayersServed(tokensServed.size()).setCallsServed(callsServed())
                .setAtMillis(System.currentTimeMillis()).build();
    }

    /**
     * Turns the node DRAINING: no new players; it closes once its players have left (or the drain
     * timeout), and then the scheduler stops. A drain that fails (DRAINING not announced: the node
     * keeps running) keeps the scheduler, which the node's player timers still need.
     */
    public CompletableFuture<Void> drain() {
        return braid.drain().whenComplete((closed, failure) -> {
            if (failure == null) {
                scheduler.shutdownNow();
            }
        });
    }

    /** Closes the node (each active player is deactivated CLOSING in its lane), then the scheduler. */
    @Override
    public void close() {
        if (sessionEvents != null) {
            sessionEvents.close();
        }
        braid.close();
        scheduler.shutdownNow();
    }

    private LoginReply login(Player<PlayerState> player, CallContext ctx, LoginRequest request) {
        callsServed.increment();
        PlayerState state = serving(player);
        boolean resumed = state.loggedIn;
        state.loggedIn = true;
        state.name = request.getPlayer();
        LoginReply.Builder reply = LoginReply.newBuilder().setPlayer(request.getPlayer()).setNode(nodeId())
                .setResumed(resumed);
        if (!rewardAfter.isZero() && !state.rewardPromised) {
            state.rewardPromised = true;
            state.rewardOwed = true;
            reply.setRewardInMillis(rewardAfter.toMillis());
        }
        armOwedReward(player);
        return reply.setCounter(state.counter).setGold(state.gold).build();
    }

    private ActReply act(Player<PlayerState> player, CallContext ctx, ActRequest request) {
        callsServed.increment();
        PlayerState state = serving(player);
        // A player active here without a login here: its old node is gone, and so is its state
        // (a store, to come, would bring it back).
        boolean recovered = !state.loggedIn;
        state.loggedIn = true;
        if ("click".equals(request.getAction())) {
            state.counter++;
        }
        return ActReply.newBuilder().setNode(nodeId()).setCounter(state.counter).setGold(state.gold)
                .setRecovered(recovered).build();
    }

    private LogoutReply logout(Player<PlayerState> player, CallContext ctx, LogoutRequest request) {
        callsServed.increment();
        PlayerState state = serving(player);
        LogoutReply reply = LogoutReply.newBuilder().setNode(nodeId()).setCounter(state.counter).setGold(state.gold)
                .build();
        // The player left: its links go, so the next login is placed afresh, and the node
        // deactivates it (LEFT) when the unlink reaches it, which cancels its timers. Until then a
        // call of the player here finds the state as a fresh one.
        state.leave();
        braid.linkCache().unlink(player.token());
        return reply;
    }

    /** A handler of {@code player} starts: recorded in its activation's record. Returns its state. */
    private static PlayerState serving(Player<PlayerState> player) {
        PlayerState state = player.state();
        if (state.activation != null) {
            state.activation.serving(System.nanoTime());
        }
        return state;
    }

    /**
     * Arms the reward timer when a reward is owed and none is armed: on activation (a restored
     * state, after a handoff, owes one with no timer) and after a login that promised one.
     */
    private void armOwedReward(Player<PlayerState> player) {
        PlayerState state = player.state();
        if (state.rewardOwed && state.reward == null && !rewardAfter.isZero()) {
            state.reward = player.after(rewardAfter, this::giveReward);
        }
    }

    /** Runs in the player's lane when the reward timer is due. */
    private void giveReward(Player<PlayerState> player) {
        PlayerState state = player.state();
        state.reward = null;
        state.rewardOwed = false;
        state.gold += REWARD_GOLD;
        Reward reward = Reward.newBuilder().setItem("gold").setAmount(REWARD_GOLD).setFromNode(nodeId())
                .setGold(state.gold).build();
        String token = player.token();
        // Routed by the player's token to the gateway that holds the player's session; not awaited,
        // so the lane is free for the player's next call at once.
        pusher.push(token, PlayerPush.newBuilder().setReward(reward)).whenComplete((seq, failure) -> {
            if (failure != null) {
                log.debug("reward for {} not pushed: {}", token, BraidException.from(failure).getMessage());
            } else {
                rewardsPushed.increment();
            }
        });
    }

    /**
     * A gateway's session event (every logic node hears each): BOUND and RESUMED make a session
     * the player's current one; a CLOSED of the current session, not by the player's own logout,
     * logs the player out on the node that holds it.
     */
    private void sessionEvent(SessionEvent event) {
        switch (event.type()) {
            case BOUND -> sessions.put(event.token(), new Session(event.sessionId(), false));
            case RESUMED -> sessions.put(event.token(), new Session(event.sessionId(), true));
            case KICKED -> { } // a newer login of the player took over: it plays on
            case CLOSED -> {
                Session current = sessions.get(event.token());
                if (current == null || !current.id().equals(event.sessionId())
                        || !sessions.remove(event.token(), current)) {
                    return; // a late end of an older session: the player is on a newer one
                }
                if (LOGGED_OUT.equals(event.reason()) || !active.contains(event.token())) {
                    return; // the player said goodbye itself (and called player.logout), or is not here
                }
                sessionsEndedByGateway.increment();
                if (current.resumed()) {
                    resumedPlayersLoggedOut.increment();
                }
                log.debug("player {} logged out: its session {} ended ({})", event.token(), event.sessionId(),
                        event.reason());
                braid.invoke(SERVICE, LOGOUT, event.token(), LogoutRequest.getDefaultInstance(), LogoutReply.parser(),
                        SELF_CALL).exceptionally(failure -> null);
            }
        }
    }

    private void publishStats() {
        try {
            braid.topic(STATS_TOPIC).publish(stats().toByteArray());
        } catch (RuntimeException closing) {
            log.debug("stats not published: {}", closing.getMessage());
        }
    }

    /** Makes and ends the players' state; the node calls it in each player's lane. */
    private final class States implements PlayerStates<PlayerState> {
        @Override
        public PlayerState activate(String token, Activation how, byte[] snapshot) {
            PlayerState state = how == Activation.FRESH ? new PlayerState() : PlayerState.restore(snapshot);
            if (how == Activation.HANDOFF) {
                playersReceived.increment();
            }
            tokensServed.add(token);
            active.add(token);
            state.token = token;
            playersOnline.incrementAndGet();
            return state;
        }

        /**
         * The activation's record begins (with the epoch it is under); a restored state that owes a
         * reward re-arms its timer at once, in the lane, before any call runs.
         */
        @Override
        public void activated(Player<PlayerState> player) {
            player.state().activation = activations.begin(player.token(), nodeId(), player.epoch(), System.nanoTime());
            armOwedReward(player);
        }

        /** The node hands the player over: the snapshot's time ends its serving unless a handler runs after it. */
        @Override
        public byte[] snapshot(PlayerState state) {
            if (state.activation != null) {
                state.activation.snapshotTaken(System.nanoTime());
            }
            return state.snapshot();
        }

        @Override
        public void deactivate(PlayerState state, Deactivation why) {
            if (state.activation != null) {
                state.activation.end(why, System.nanoTime());
            }
            active.remove(state.token);
            playersOnline.decrementAndGet();
            log.debug("player {} deactivated: {}", state.name, why);
        }
    }

    /** Runs one logic node until SIGTERM (then drains) or, with --exit-on-stdin-eof, until stdin closes. */
    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(SERVICE, SETTINGS, args, System.getenv());
        Duration drainTimeout = settings.getSeconds(DRAIN_SECONDS);
        Braid.Builder builder = NodeSettings.builder(SERVICE, settings);
        if (!drainTimeout.isZero()) {
            builder.drainTimeout(drainTimeout);
        }
        LogicService logic = start(builder, settings.getSeconds(REWARD_SECONDS));
        System.out.printf("ready: logic %s at %s on %s%n", logic.nodeId(), logic.braid().node().address(),
                NodeSettings.plane(settings));
        System.out.flush();
        NodeSettings.runUntilStopped(settings, () -> {
            if (drainTimeout.isZero()) {
                logic.close();
            } else {
                System.out.printf("logic %s draining: %d players still here%n", logic.nodeId(), logic.playersOnline());
                logic.drain().join();
            }
            System.out.printf("logic %s stopped%n", logic.nodeId());
            System.out.flush();
        });
    }
}
