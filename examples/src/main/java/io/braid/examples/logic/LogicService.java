package io.braid.examples.logic;

import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.examples.NodeSettings;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.proto.ActReply;
import io.braid.examples.proto.ActRequest;
import io.braid.examples.proto.LoginReply;
import io.braid.examples.proto.LoginRequest;
import io.braid.examples.proto.LogoutReply;
import io.braid.examples.proto.LogoutRequest;
import io.braid.examples.proto.NodeStats;
import io.braid.examples.proto.PushAck;
import io.braid.examples.proto.Reward;
import io.braid.runtime.Braid;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The logic service: it holds each player's state in memory, on the one node the player's token
 * is linked to. Methods (all routed by the player's token):
 * <ul>
 *   <li>{@value #LOGIN}: creates the player's state (or finds it again) and schedules a reward
 *       that this node pushes to the player's gateway a few seconds later: it invokes the gateway
 *       service with the player's token, and the gateway linked that token to itself at login;</li>
 *   <li>{@value #ACT}: a click adds one to the player's counter; a node that has no state for the
 *       player (its old node died) begins anew and says so;</li>
 *   <li>{@value #LOGOUT}: drops the state and unlinks the token, so the player's next login may
 *       land anywhere.</li>
 * </ul>
 * Every second the node publishes its {@link NodeStats} on topic {@value #STATS_TOPIC}.
 * Thread-safe; {@link #close()} is idempotent.
 */
public final class LogicService implements AutoCloseable {
    public static final String SERVICE = "logic";
    public static final String LOGIN = "player.login";
    public static final String ACT = "player.act";
    public static final String LOGOUT = "player.logout";
    public static final String STATS_TOPIC = "demo.stats";

    public static final Setting REWARD_SECONDS = new Setting("--reward-seconds", "LOGIC_REWARD_SECONDS", "3",
            "seconds after login when the player gets a reward pushed; 0 = never");
    public static final Setting DRAIN_SECONDS = new Setting("--drain-seconds", "BRAID_DRAIN_SECONDS", "30",
            "on SIGTERM, how long the node waits for its players to leave before it closes");
    public static final List<Setting> SETTINGS = Stream.concat(NodeSettings.ALL.stream(),
            Stream.of(REWARD_SECONDS, DRAIN_SECONDS)).toList();

    static final long REWARD_GOLD = 10;
    private static final Logger log = LoggerFactory.getLogger(LogicService.class);
    private static final CallOptions PUSH_OPTIONS = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(2));

    private final Map<String, PlayerState> players = new ConcurrentHashMap<>();
    private final Set<String> tokensServed = ConcurrentHashMap.newKeySet();
    private final AtomicLong callsServed = new AtomicLong();
    private final AtomicLong rewardsPushed = new AtomicLong();
    private final Duration rewardAfter;
    private final ScheduledExecutorService timers;
    private volatile Braid braid;

    private LogicService(Duration rewardAfter) {
        this.rewardAfter = rewardAfter;
        this.timers = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("logic-timers").factory());
    }

    /**
     * Starts a logic node from {@code builder} (service, plane and address already set; this adds
     * the handlers and sets the service name).
     */
    public static LogicService start(Braid.Builder builder, Duration rewardAfter) {
        LogicService logic = new LogicService(rewardAfter);
        try {
            logic.braid = builder.service(SERVICE)
                    .handle(LOGIN, LoginRequest.parser(), logic::login)
                    .handleAsync(ACT, ActRequest.parser(), (ctx, request) -> CompletableFuture.completedFuture(logic.act(ctx, request)))
                    .handle(LOGOUT, LogoutRequest.parser(), logic::logout)
                    .start();
        } catch (RuntimeException e) {
            logic.timers.shutdownNow();
            throw e;
        }
        logic.timers.scheduleAtFixedRate(logic::publishStats, 1, 1, TimeUnit.SECONDS);
        return logic;
    }

    public Braid braid() {
        return braid;
    }

    public String nodeId() {
        return braid.node().id();
    }

    public int playersOnline() {
        return players.size();
    }

    /** Every token this node has served a call for since it started. */
    public Set<String> tokensServed() {
        return Set.copyOf(tokensServed);
    }

    public long callsServed() {
        return callsServed.get();
    }

    public long rewardsPushed() {
        return rewardsPushed.get();
    }

    public NodeStats stats() {
        return NodeStats.newBuilder().setNode(nodeId()).setPlayersOnline(players.size())
                .setPlayersServed(tokensServed.size()).setCallsServed(callsServed.get())
                .setAtMillis(System.currentTimeMillis()).build();
    }

    /** Turns the node DRAINING: no new players; it closes once its players have left (or the drain timeout). */
    public CompletableFuture<Void> drain() {
        return braid.drain().whenComplete((done, failure) -> timers.shutdownNow());
    }

    @Override
    public void close() {
        timers.shutdownNow();
        braid.close();
    }

    private LoginReply login(CallContext ctx, LoginRequest request) {
        String token = served(ctx);
        boolean[] resumed = {false};
        PlayerState player = players.compute(token, (t, existing) -> {
            if (existing != null) {
                resumed[0] = true;
                return existing;
            }
            return new PlayerState(request.getPlayer());
        });
        LoginReply.Builder reply = LoginReply.newBuilder().setPlayer(request.getPlayer()).setNode(nodeId())
                .setResumed(resumed[0]);
        synchronized (player) {
            if (!rewardAfter.isZero() && player.reward == null) {
                player.reward = timers.schedule(() -> pushReward(token), rewardAfter.toMillis(), TimeUnit.MILLISECONDS);
                reply.setRewardInMillis(rewardAfter.toMillis());
            }
            return reply.setCounter(player.counter).setGold(player.gold).build();
        }
    }

    private ActReply act(CallContext ctx, ActRequest request) {
        String token = served(ctx);
        boolean[] recovered = {false};
        PlayerState player = players.computeIfAbsent(token, t -> {
            // A real game would load the player from its database here: its old node is gone.
            recovered[0] = true;
            return new PlayerState("");
        });
        synchronized (player) {
            if ("click".equals(request.getAction())) {
                player.counter++;
            }
            return ActReply.newBuilder().setNode(nodeId()).setCounter(player.counter).setGold(player.gold)
                    .setRecovered(recovered[0]).build();
        }
    }

    private LogoutReply logout(CallContext ctx, LogoutRequest request) {
        String token = served(ctx);
        PlayerState player = players.remove(token);
        LogoutReply.Builder reply = LogoutReply.newBuilder().setNode(nodeId());
        if (player != null) {
            synchronized (player) {
                if (player.reward != null) {
                    player.reward.cancel(false);
                }
                reply.setCounter(player.counter).setGold(player.gold);
            }
        }
        // The player left: its links go, so the next login is placed afresh.
        braid.linkCache().unlink(token);
        return reply.build();
    }

    private String served(CallContext ctx) {
        String token = ctx.token();
        if (token.isEmpty()) {
            throw new BraidException(Code.INVALID_ARGUMENT, ctx.method() + " needs a player token");
        }
        tokensServed.add(token);
        callsServed.incrementAndGet();
        return token;
    }

    private void pushReward(String token) {
        PlayerState player = players.get(token);
        if (player == null) {
            return;
        }
        Reward reward;
        synchronized (player) {
            player.gold += REWARD_GOLD;
            reward = Reward.newBuilder().setItem("gold").setAmount(REWARD_GOLD).setFromNode(nodeId())
                    .setGold(player.gold).build();
        }
        // Routed by the player's token to the gateway that holds the player's socket.
        braid.invoke(GatewayService.SERVICE, GatewayService.PUSH, token, reward, PushAck.parser(), PUSH_OPTIONS)
                .whenComplete((ack, failure) -> {
                    if (failure != null) {
                        log.debug("reward for {} not pushed: {}", token, BraidException.from(failure).getMessage());
                    } else if (ack.getDelivered()) {
                        rewardsPushed.incrementAndGet();
                    }
                });
    }

    private void publishStats() {
        try {
            braid.topic(STATS_TOPIC).publish(stats().toByteArray());
        } catch (RuntimeException closing) {
            log.debug("stats not published: {}", closing.getMessage());
        }
    }

    /** A player's state. Guarded by its own monitor. */
    private static final class PlayerState {
        final String name;
        long counter;
        long gold;
        ScheduledFuture<?> reward;

        PlayerState(String name) {
            this.name = name;
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
