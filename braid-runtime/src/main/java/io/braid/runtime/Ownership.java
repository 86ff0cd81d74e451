package io.braid.runtime;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.braid.api.LinkCache;
import io.braid.api.Ticker;
import io.braid.linkcache.LinkWatcher;
import io.braid.rpc.TokenGate;
import java.time.Duration;
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
 * On the in-memory control plane the changes come straight from the shared links and are never
 * lost. Thread-safe; the watcher's methods run on the link cache's pub/sub thread (in memory: on
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
     * Entries idle for {@link #OWNED_IDLE} are dropped.
     */
    private final Cache<String, Boolean> owned;
    /** Tokens given to another node, with when we heard it (the ticker's reading). */
    private final ConcurrentHashMap<String, Long> givenAway = new ConcurrentHashMap<>();
    private final AtomicLong revocations = new AtomicLong();
    /** Tokens being read again by {@link #recheck}, with how many changes of each were heard meanwhile. */
    private final ConcurrentHashMap<String, Integer> rechecking = new ConcurrentHashMap<>();
    private volatile long lastPurge;
    private volatile Supplier<CompletableFuture<Set<String>>> openStreamTokens;
    private volatile LinkCache links;
    private volatile BiConsumer<String, String> endStreams;

    Ownership(SelfFence fence, String nodeId, String service, Ticker ticker) {
        this.fence = fence;
        this.nodeId = nodeId;
        this.service = service;
        this.ticker = ticker;
        this.lastPurge = ticker.read();
        this.owned = Caffeine.newBuilder().expireAfterAccess(OWNED_IDLE).maximumSize(OWNED_MAX).ticker(ticker::read)
                .build();
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
            Long since = givenAway.get(token);
            if (since != null) {
                if (ticker.read() - since < KEEP.toNanos()) {
                    return false;
                }
                givenAway.remove(token, since);
            }
        }
        if (owned.getIfPresent(token) == null) {
            owned.put(token, Boolean.TRUE);
        }
        return true;
    }

    @Override
    public long revocations() {
        return revocations.get();
    }

    @Override
    public void changed(String token, String service, String owner) {
        if (!this.service.equals(service)) {
            return;
        }
        if (!rechecking.isEmpty()) {
            rechecking.computeIfPresent(token, (t, changes) -> changes + 1);
        }
        if (nodeId.equals(owner)) {
            givenAway.remove(token);
            owned.put(token, Boolean.TRUE);
            return;
        }
        boolean wasOurs = owned.asMap().remove(token) != null;
        if (owner == null) {
            // Unlinked: nobody owns the player now, and its next call may link it here again (that
            // call can arrive before we hear of the new link, so it is not refused). What was routed
            // here before the unlink, its open streams, ends now.
            givenAway.remove(token);
            BiConsumer<String, String> end = endStreams;
            if (end != null) {
                end.accept(token, "token " + token + " was unlinked from this node; open it again");
            }
            return;
        }
        if (!wasOurs) {
            return; // never ours: nothing to stop, and we may be its next owner
        }
        long now = ticker.read();
        givenAway.put(token, now);
        revocations.incrementAndGet();
        purge(now);
    }

    @Override
    public void nodeCleared(String nodeId) {
        if (this.nodeId.equals(nodeId)) {
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
        // The open streams' tokens, which may have moved away unheard, and the tokens given away,
        // which may have come back unheard (refused here until KEEP ran out, had we not looked).
        Set<String> given = Set.copyOf(givenAway.keySet());
        tokens.get().thenAccept(open -> {
            open.forEach(token -> recheck(token, RECHECKS));
            given.stream().filter(token -> !open.contains(token)).forEach(token -> recheck(token, RECHECKS));
        });
    }

    /**
     * Looks {@code token} up in the store and refuses it if its link no longer points here. An
     * answer read while a change was heard is older than that change: it is read again instead
     * (at most {@code attempts} times; the heard change stands meanwhile).
     */
    private void recheck(String token, int attempts) {
        rechecking.put(token, 0);
        links.targetAsync(token, service).whenComplete((owner, failure) -> {
            Integer changes = rechecking.remove(token);
            if (failure != null || attempts <= 0) {
                return; // Redis cannot answer: the self-fence covers a node cut off from it
            }
            if (changes == null || changes > 0) {
                recheck(token, attempts - 1);
            } else if (owner.isEmpty() || !owner.get().equals(nodeId)) {
                changed(token, service, owner.orElse(null));
            } else {
                changed(token, service, nodeId); // it came back: admit it again
            }
        });
    }

    /** Drops what was given away longer than {@link #KEEP} ago, at most twice per KEEP. */
    private void purge(long now) {
        if (now - lastPurge < KEEP.toNanos() / 2) {
            return;
        }
        lastPurge = now;
        givenAway.values().removeIf(since -> now - since >= KEEP.toNanos());
    }
}
