package io.braid.runtime;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.PlayerHandler;
import io.braid.api.PlayerStore;
import io.braid.api.PlayerStates;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The players of a logic service: how to make, save and end one player's state
 * ({@link PlayerStates}), the methods whose handlers get it ({@link PlayerHandler}), and how long a
 * player may stay idle. Given to a node with {@link Braid.Builder#players}:
 *
 * <pre>{@code
 * Players<Clicks> players = Players.of(new PlayerStates<Clicks>() {
 *         public Clicks activate(String token, Activation how, byte[] snapshot) { return new Clicks(); }
 *         public void deactivate(Clicks state, Deactivation why) { ... }
 *     })
 *     .handle("click", ClickReq.parser(), (player, ctx, req) -> reply(player.state().add()))
 *     .idleTimeout(Duration.ofMinutes(10));
 * Braid.builder().service("logic").players(players).start();
 * }</pre>
 *
 * <p>On the node, each call of a player method runs in its token's lane: one at a time per player,
 * in arrival order, together with the player's timers, so handlers need no locks. The first call
 * of a token activates its state, under the epoch of the token's link, which must name this node
 * (else the call is refused UNAVAILABLE and nothing is activated); the activation ends (exactly once, in the lane) when the player
 * leaves (its link is removed), moves to another node (under a higher epoch), stays idle for {@link #idleTimeout}, or the
 * node closes. A call with the empty token is refused INVALID_ARGUMENT: a player method needs a
 * player. braid-runtime's README, "Players", tells the whole contract.
 *
 * <p>A definition, not thread-safe while it is being built; {@link Braid.Builder#players} copies it,
 * so changing it afterwards changes no node.
 *
 * @param <S> the state of one player
 */
public final class Players<S> {
    /** The idle timeout unless set. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /**
     * The longest idle timeout: the node remembers the players it acts for for one hour without
     * news of them, and must still know an idle player is its own to deactivate it when it moves.
     */
    public static final Duration MAX_IDLE_TIMEOUT = Ownership.OWNED_IDLE;

    final PlayerStates<S> states;
    final List<Method<S, ?, ?>> methods;
    /** Player streams: each message runs in the player's lane ({@link #stream}). */
    final List<Method<S, ?, ?>> streams = new ArrayList<>();
    Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    Saving saving = Saving.NONE;
    /** For {@link Saving#PERIODIC}: how often an active player is saved. */
    Duration saveInterval;
    /** Where snapshots go; null: the node's control plane's store. */
    PlayerStore store;
    /** How often a node rebalances its players; null: never (the default). */
    Duration rebalanceEvery;
    int rebalancePerRound;

    /** When a player's snapshot is saved to the store. */
    enum Saving {
        /** Never: no store is used (the default). */
        NONE,
        /** When its activation ends (LEFT, IDLE, CLOSING; not MOVED: its new owner holds it). */
        ON_DEACTIVATION,
        /** Also every {@link #saveInterval} while it is active. */
        PERIODIC,
        /** Also after every call, before the call answers. */
        WRITE_THROUGH
    }

    private Players(PlayerStates<S> states, List<Method<S, ?, ?>> methods) {
        this.states = states;
        this.methods = methods;
    }

    /** Players whose state {@code states} makes and ends. */
    public static <S> Players<S> of(PlayerStates<S> states) {
        return new Players<>(Objects.requireNonNull(states, "states"), new ArrayList<>());
    }

    /**
     * A player method: its calls run in their token's lane and {@code handler} gets the player
     * (see {@link PlayerHandler}).
     *
     * @throws IllegalArgumentException for a null or blank method, a method already handled here,
     *                                  or a null parser or handler
     */
    public <Q, R extends MessageLite> Players<S> handle(String method, Parser<Q> parser,
                                                        PlayerHandler<S, Q, R> handler) {
        if (method == null || method.isBlank()) {
            throw new IllegalArgumentException("player method must not be blank, was "
                    + (method == null ? "null" : "'" + method + "'"));
        }
        if (handles(method)) {
            throw new IllegalArgumentException("player method '" + method + "' is already handled");
        }
        if (parser == null || handler == null) {
            throw new IllegalArgumentException("player method '" + method + "': "
                    + (parser == null ? "parser" : "handler") + " must not be null");
        }
        methods.add(new Method<>(method, parser, handler));
        return this;
    }

    /**
     * A player stream: a bidirectional stream opened with the player's token whose messages each
     * run in the player's lane, one at a time with its calls and timers, in arrival order, and get
     * the player's state: {@code handler} answers each message, and what it returns (unless null)
     * is written to the stream. The stream itself holds no lane between messages. A message whose
     * handler throws ends the stream with that failure (the player stays active); a message that
     * finds the player not served here (it moved: handoff, relink) ends the stream UNAVAILABLE,
     * and the caller opens it again, at the new owner. Write-through saves after each message.
     *
     * @throws IllegalArgumentException as {@link #handle}
     */
    public <Q, R extends MessageLite> Players<S> stream(String method, Parser<Q> parser,
                                                        PlayerHandler<S, Q, R> handler) {
        if (method == null || method.isBlank()) {
            throw new IllegalArgumentException("player stream must not be blank, was "
                    + (method == null ? "null" : "'" + method + "'"));
        }
        if (handles(method)) {
            throw new IllegalArgumentException("player method '" + method + "' is already handled");
        }
        if (parser == null || handler == null) {
            throw new IllegalArgumentException("player stream '" + method + "': "
                    + (parser == null ? "parser" : "handler") + " must not be null");
        }
        streams.add(new Method<>(method, parser, handler));
        return this;
    }

    private boolean handles(String method) {
        return methods.stream().anyMatch(m -> m.name().equals(method))
                || streams.stream().anyMatch(m -> m.name().equals(method));
    }

    /**
     * How long a player stays active with no call and no timer running (1 ms..1 h, default 10 min);
     * then it is deactivated with {@code IDLE}, measured on the node's ticker and checked every
     * tenth of it (at least every 10 ms, at most every second).
     *
     * @throws IllegalArgumentException when out of range
     */
    public Players<S> idleTimeout(Duration idleTimeout) {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.compareTo(Duration.ofMillis(1)) < 0 || idleTimeout.compareTo(MAX_IDLE_TIMEOUT) > 0) {
            throw new IllegalArgumentException("idleTimeout must be in 1ms.." + MAX_IDLE_TIMEOUT + " (the node "
                    + "forgets a player it heard nothing of for " + MAX_IDLE_TIMEOUT + "), was " + idleTimeout);
        }
        this.idleTimeout = idleTimeout;
        return this;
    }

    /**
     * Saves each player's snapshot ({@link PlayerStates#snapshot}) to the store when its activation
     * ends (LEFT, IDLE, CLOSING; not MOVED, whose new owner holds the player), and activates a
     * player that has no state on this node from the store ({@code Activation.STORE}) when a
     * snapshot is saved, else afresh. A node that dies (kill -9) loses what changed since the last
     * save; see {@link #saveEvery} and {@link #writeThrough} to bound that. Every save carries
     * {@link io.braid.api.Player#epoch()}: the store refuses it once a newer owner exists, and the
     * activation that tried it ends (MOVED).
     */
    public Players<S> saveOnDeactivation() {
        saving = Saving.ON_DEACTIVATION;
        saveInterval = null;
        return this;
    }

    /**
     * {@link #saveOnDeactivation}, and every {@code interval} while the player is active (in its
     * lane, one at a time with its calls; the save does not count as use for the idle timeout): a
     * node that dies loses at most the last {@code interval} of a player's changes.
     *
     * @throws IllegalArgumentException for an interval under 10 ms
     */
    public Players<S> saveEvery(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.compareTo(Duration.ofMillis(10)) < 0) {
            throw new IllegalArgumentException("saveEvery must be at least 10ms, was " + interval);
        }
        saving = Saving.PERIODIC;
        saveInterval = interval;
        return this;
    }

    /**
     * {@link #saveOnDeactivation}, and after every call, in the lane before the call answers: a
     * call that answered OK has its effect saved, so a node that dies loses nothing a caller was
     * told. A call whose save fails answers UNAVAILABLE (its effect may or may not be saved); one
     * whose save is refused (a newer owner exists) answers UNAVAILABLE and ends the activation.
     * Costs one store write per call.
     */
    public Players<S> writeThrough() {
        saving = Saving.WRITE_THROUGH;
        saveInterval = null;
        return this;
    }

    /**
     * Where snapshots are saved and loaded (your own database, see {@link PlayerStore}); by default
     * the node's control plane keeps them (Redis, or the memory of the in-memory plane). Used only
     * with a saving policy ({@link #saveOnDeactivation}, {@link #saveEvery}, {@link #writeThrough}).
     */
    public Players<S> store(PlayerStore store) {
        this.store = Objects.requireNonNull(store, "store");
        return this;
    }

    /**
     * Rebalances: every {@code every}, a node holding more than its share of the service's players
     * (by weight, counting each node's links; more than a tenth above it) hands at most
     * {@code playersPerRound} of its active players over to nodes below their share, by the same
     * live hand-over as a drain (their calls wait, then go on; nothing is lost). So a node that
     * joins, or whose weight grows, gets players without waiting for new logins. Off by default.
     * Players without a snapshot are not moved.
     *
     * @throws IllegalArgumentException for {@code every} under 100 ms or {@code playersPerRound}
     *                                  outside 1..10,000
     */
    public Players<S> rebalance(Duration every, int playersPerRound) {
        Objects.requireNonNull(every, "every");
        if (every.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("rebalance interval must be at least 100ms, was " + every);
        }
        if (playersPerRound < 1 || playersPerRound > 10_000) {
            throw new IllegalArgumentException("playersPerRound must be in 1..10000, was " + playersPerRound);
        }
        this.rebalanceEvery = every;
        this.rebalancePerRound = playersPerRound;
        return this;
    }

    /** A copy of this definition as it is now (the node keeps the copy). */
    Players<S> copy() {
        Players<S> copy = new Players<>(states, List.copyOf(methods));
        copy.streams.addAll(streams);
        copy.idleTimeout = idleTimeout;
        copy.saving = saving;
        copy.saveInterval = saveInterval;
        copy.store = store;
        copy.rebalanceEvery = rebalanceEvery;
        copy.rebalancePerRound = rebalancePerRound;
        return copy;
    }

    /** One player method. */
    record Method<S, Q, R extends MessageLite>(String name, Parser<Q> parser, PlayerHandler<S, Q, R> handler) {
    }
}
