package io.braid.runtime;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.PlayerStates.Deactivation;
import io.braid.api.Ticker;
import io.braid.api.internal.LinkWatcher;
import io.braid.api.internal.TokenGate;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner-side gate of a node: whether it may act for a player now. It admits a token while
 * the node's {@link SelfFence} is open and the token was not given to another node since. It
 * learns of such moves from the link cache's invalidation channel ({@link LinkWatcher}), so an
 * owner stops acting for a player the moment its link points elsewhere, whoever moved it:
 * <ul>
 *   <li>a token whose link now points at another node is refused (UNAVAILABLE) and its open
 *       streams here end, within the server's fence check interval, until its link points here
 *       again (or {@link #KEEP} has passed: by then every caller's near cache has learned of the
 *       move);
 *   <li>a token whose link was removed has its open streams here ended at once; its calls are
 *       not refused, since the player's next call may link it here again and arrive before we
 *       hear of that new link (and if it is linked elsewhere, we hear that and refuse it then);
 *   <li>when the links of this very node were cleared (the leader took it for gone while it
 *       lives), the node fences itself as after a registration lapse;
 *   <li>when link changes may have been missed (the invalidation connection dropped or went
 *       silent, or Redis lost data), the tokens of the open streams and the tokens given away are
 *       looked up again in the store: those no longer linked here are treated as above, those
 *       linked here again are admitted again.
 * </ul>
 * Changes are told apart by the link's epoch: a change naming another node, or removing a link,
 * whose epoch is below the newest epoch this node knows it owns the token under (it activated a
 * player under it, {@link #actingUnder}, or heard the token linked here with it), is older than
 * that ownership and ignored (an invalidation arriving late, or a re-check that read before a
 * newer link); a removal of the link of that very epoch is the player leaving. A change naming this
 * node under an epoch above an activation's ends that activation: the player was elsewhere in
 * between. A change without an epoch (0) is taken as newer, and so is a re-check's read naming
 * another node (the store is the truth, whatever epoch a link written behind braid's back keeps). On the in-memory control plane the changes come straight from the
 * shared links and are never lost. Thread-safe; the watcher's methods run on the link cache's pub/sub thread (in memory: on
 * the thread that made the change).
 */
final class Ownership implements TokenGate, LinkWatcher {
    /** How long a token given away stays refused without news of it coming back. */
    static final Duration KEEP = Duration.ofSeconds(10);
    /** How long a token this node acts for is remembered without a call or stream message. */
    static final Duration OWNED_IDLE = Duration.ofHours(1);
    /**
     * Most tokens remembered (about 100 B each): ten times the players a node normally holds. A
     * token pushed out (least used first) is not given up when it moves: its streams then end only
     * by the self-fence or their own end.
     */
    static final long OWNED_MAX = 1_000_000;
    /** Reads of one token's owner when changes keep arriving during them. */
    private static final int RECHECKS = 3;

    private static final Logger log = LoggerFactory.getLogger(Ownership.class);

    private final SelfFence fence;
    private final String nodeId;
    private final String service;
    private final Ticker ticker;
    /**
     * Tokens this node acts for: admitted here, or heard linked here. Only such a token is given
     * away when it is heard linked elsewhere: a node that never had the player has nothing to stop,
     * and may well be its next owner (a call can arrive before its pub/sub hears the new link, the
     * more so on a Cluster, where each node's subscription hears the changes at its own pace).
     * Entries idle for {@link #OWNED_IDLE} are dropped. The value is the newest epoch this node
     * knows it owns the token under (0: admitted, epoch not known yet). Caffeine's upkeep of it runs
     * on the thread that reads or writes (a server event loop, the link cache's pub/sub thread), as
     * the near cache's does: handed to the common pool, every cold call would wake another thread
     * on its owner.
     */
    private final Cache<String, Long> owned;
    /** Tokens given to another node, with when we heard it and where it went. */
    private final ConcurrentHashMap<String, Given> givenAway = new ConcurrentHashMap<>();
    private final AtomicLong revocations = new AtomicLong();
    /** The node drained its players and removes its own remaining links before it closes. */
    private volatile boolean leaving;
    /** Tokens being read again by {@link #recheck}, with how many changes of each were heard meanwhile. */
    private final ConcurrentHashMap<String, Integer> rechecking = new ConcurrentHashMap<>();
    private volatile long lastPurge;
    private volatile Supplier<CompletableFuture<Set<String>>> openStreamTokens;
    private volatile LinkCache links;
    private volatile BiConsumer<String, String> endStreams;
    /** Told when a player it acts for leaves (unlinked) or moves; null without players. */
    private volatile PlayerNews players;
    /** The tokens of the active players, looked up again when changes may have been missed; null without players. */
    private volatile Supplier<Set<String>> activePlayers;

    /** What {@link Ownership} tells the node's players. Called on the link cache's pub/sub thread: quick, no blocking. */
    interface PlayerNews {
        /**
         * The player of {@code token} left (LEFT: its link of {@code epoch} was removed) or moved
         * (MOVED: linked to another node under {@code epoch}, or linked here under {@code epoch},
         * which ends only an activation under a lower one). Epoch 0: not known, taken as newer.
         */
        void gone(String token, Deactivation why, long epoch);
    }

    /** A token given to another node: when this node heard it (the ticker's reading), and its new link if known. */
    private record Given(long since, Link to) {
    }

    /**
     * Where a token this node refuses went, when it knows: the link it heard naming another node
     * (none when the change carried no epoch, or the token is admitted here).
     */
    @Override
    public Optional<Link> movedTo(String token) {
        Given given = givenAway.get(token);
        return given == null ? Optional.empty() : Optional.ofNullable(given.to());
    }

    Ownership(SelfFence fence, String nodeId, String service, Ticker ticker) {
        this.fence = fence;
        this.nodeId = nodeId;
        this.service = service;
        this.ticker = ticker;
        this.lastPurge = ticker.read();
        this.owned = Caffeine.newBuilder().expireAfterAccess(OWNED_IDLE).maximumSize(OWNED_MAX).ticker(ticker::read)
                .executor(Runnable::run).build();
    }

    /**
     * Once the server runs: how to list the open streams' tokens (to re-check them when changes may
     * have been missed) and how to end a token's open streams (when its link is removed).
     */
    void serve(Supplier<CompletableFuture<Set<String>>> openStreamTokens, BiConsumer<String, String> endStreams,
               LinkCache links) {
        this.links = links;
        this.endStreams = endStreams;
        this.openStreamTokens = openStreamTokens;
    }

    /**
     * Whom to tell that a player this node acts for left (its link was removed) or moved to another
     * node, and the tokens of the active players (looked up again, with the open streams' tokens,
     * when changes may have been missed).
     */
    void tellPlayers(PlayerNews players, Supplier<Set<String>> activePlayers) {
        this.players = players;
        this.activePlayers = activePlayers;
    }

    /**
     * A player of {@code token} is activated here under {@code epoch} (the link named this node
     * with it): changes of an epoch below it are older than the activation and ignored from now on.
     */
    void actingUnder(String token, long epoch) {
        owned.asMap().merge(token, epoch, Math::max);
    }

    @Override
    public boolean isOpen() {
        return fence.getAsBoolean();
    }

    @Override
    public boolean admits(String token) {
        if (!fence.getAsBoolean()) {
            return false;
        }
        if (!givenAway.isEmpty()) {
            Given given = givenAway.get(token);
            if (given != null) {
                if (ticker.read() - given.since() < KEEP.toNanos()) {
                    return false;
                }
                givenAway.remove(token, given);
            }
        }
        if (owned.getIfPresent(token) == null) {
            owned.asMap().putIfAbsent(token, 0L);
        }
        return true;
    }

    @Override
    public long revocations() {
        return revocations.get();
    }

    @Override
    public void changed(String token, String service, String owner, long epoch) {
        if (!this.service.equals(service)) {
            return;
        }
        if (!rechecking.isEmpty()) {
            rechecking.computeIfPresent(token, (t, changes) -> changes + 1);
        }
        if (nodeId.equals(owner)) {
            givenAway.remove(token);
            actingUnder(token, epoch);
            PlayerNews tell = players;
            if (tell != null) {
                // Linked here under a higher epoch than an activation here: it was given to another
                // node in between, unheard; that activation is stale (the players end it, MOVED).
                tell.gone(token, Deactivation.MOVED, epoch);
            }
            return;
        }
        Long ours = owned.getIfPresent(token);
        if (ours != null && epoch > 0 && (owner == null ? epoch < ours : epoch <= ours)) {
            log.debug("token {}: a change to {} under epoch {} is older than this node's ownership (epoch {}): "
                    + "ignored", token, owner, epoch, ours);
            return;
        }
        boolean wasOurs = ours != null && owned.asMap().remove(token) != null;
        if (owner == null) {
            // Unlinked: nobody owns the player now, and its next call may link it here again (that
            // call can arrive before we hear of the new link, so it is not refused). What was routed
            // here before the unlink, its open streams, ends now.
            givenAway.remove(token);
            BiConsumer<String, String> end = endStreams;
            if (end != null) {
                end.accept(token, "token " + token + " was unlinked from this node; open it again");
            }
            PlayerNews tell = players;
            if (tell != null) {
                tell.gone(token, Deactivation.LEFT, epoch);
            }
            return;
        }
        if (!wasOurs) {
            return; // never ours: nothing to stop, and we may be its next owner
        }
        long now = ticker.read();
        givenAway.put(token, new Given(now, epoch > 0 ? new Link(owner, epoch) : null));
        revocations.incrementAndGet();
        PlayerNews tell = players;
        if (tell != null) {
            tell.gone(token, Deactivation.MOVED, epoch);
        }
        purge(now);
    }

    /** The node is about to remove its own links (a drain's end): hearing them cleared is no lapse. */
    void leaving() {
        leaving = true;
    }

    @Override
    public void nodeCleared(String nodeId) {
        if (this.nodeId.equals(nodeId) && !fence.closing() && !leaving) {
            // (A closing node deregistered itself, a drained one let its links go: no news.)
            log.warn("the links of this node ({}) were cleared while it runs (the leader took it for gone): "
                    + "its players may have moved; token work waits", nodeId);
            fence.lapsed();
        }
    }

    @Override
    public void mayHaveMissed() {
        Supplier<CompletableFuture<Set<String>>> tokens = openStreamTokens;
        if (tokens == null || links == null) {
            return;
        }
        // The open streams' tokens and the active players, which may have moved away unheard, and
        // the tokens given away, which may have come back unheard (refused here until KEEP ran out,
        // had we not looked).
        Set<String> given = Set.copyOf(givenAway.keySet());
        Supplier<Set<String>> active = activePlayers;
        Set<String> playing = active == null ? Set.of() : active.get();
        tokens.get().thenAccept(open -> {
            Set<String> all = new HashSet<>(open);
            all.addAll(playing);
            all.addAll(given);
            all.forEach(token -> recheck(token, RECHECKS));
        });
    }

    /**
     * Looks {@code token} up in the store and refuses it if its link no longer points here, or
     * admits it again if it points here (ending an activation under a lower epoch). An
     * answer read while a change was heard is older than that change: it is read again instead
     * (at most {@code attempts} times; the heard change stands meanwhile).
     */
    private void recheck(String token, int attempts) {
        rechecking.put(token, 0);
        links.linkOfAsync(token, service).whenComplete((link, failure) -> {
            Integer changes = rechecking.remove(token);
            if (failure != null || attempts <= 0) {
                return; // Redis cannot answer: the self-fence covers a node cut off from it
            }
            if (changes == null || changes > 0) {
                recheck(token, attempts - 1);
            } else if (link.isEmpty()) {
                // No link: whatever this node owned of it was removed (the removal's epoch is not
                // known here; 0 is taken as newer).
                changed(token, service, null, 0);
            } else if (!link.get().nodeId().equals(nodeId)) {
                // The store names another node: that is the truth now, whatever its epoch (a link
                // written behind braid's back keeps the old one), so it is taken as newer (0).
                changed(token, service, link.get().nodeId(), 0);
            } else {
                // Here again: admitted again; an activation under a lower epoch is stale and ends.
                changed(token, service, nodeId, link.get().epoch());
            }
        });
    }

    /** Drops what was given away longer than {@link #KEEP} ago, at most twice per KEEP. */
    private void purge(long now) {
        if (now - lastPurge < KEEP.toNanos() / 2) {
            return;
        }
        lastPurge = now;
        givenAway.values().removeIf(given -> now - given.since() >= KEEP.toNanos());
    }
}
