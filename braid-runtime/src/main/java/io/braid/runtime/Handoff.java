package io.braid.runtime;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Discover;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.monitor.internal.NodeCaller;
import io.braid.runtime.internal.wire.HandoffAnswer;
import io.braid.runtime.internal.wire.HandoffOffer;
import io.braid.runtime.internal.wire.HandoffOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands players of this node over to other nodes of its service, and takes the players handed to
 * it. Per player, the old owner, in the player's lane (so the player's calls wait behind it and
 * none runs meanwhile):
 * <ol>
 *   <li>snapshots the state and <b>offers</b> it to a target ({@value #OFFER}); the target keeps the
 *       offer for {@link #OUTCOME_WAIT} and holds the player's calls that reach it meanwhile;</li>
 *   <li><b>moves</b> the link from (itself, the activation's epoch) to the target with a
 *       compare-and-set ({@link LinkCache#moveAsync}). Only a known outcome counts: a move that
 *       failed or timed out (Redis away) is made again, and the compare-and-set itself says whether
 *       the link is still the expected one, until the outcome is known or the node closes;</li>
 *   <li>moved: ends its activation (MOVED), refuses the player from then on naming the new link
 *       (the calls that waited go on to the target), and tells the target the new epoch
 *       ({@value #OUTCOME}); the target activates the player from the snapshot under it (HANDOFF).
 *       Not moved (the link changed meanwhile: the old activation is stale): the activation ends,
 *       MOVED, and the target drops the offer.</li>
 * </ol>
 * Never two owners: the target acts for the player only under the epoch the compare-and-set gave,
 * and the old owner stops before that epoch exists. A target that dies after the move loses what a
 * dying owner loses; one that dies before it leaves the player where it was (the next target is
 * tried). An offer whose outcome never comes (the old owner died) is dropped after
 * {@link #OUTCOME_WAIT}: the held calls then activate the player as usual (fresh, or from a store).
 *
 * <p>A player that is not active here but whose link names this node (a draining node's cold call)
 * is relocated the same way with no state ({@code no_state}): the target activates it fresh.
 * Thread-safe.
 */
final class Handoff {
    static final String OFFER = "braid.players.offer";
    static final String OUTCOME = "braid.players.outcome";
    /** How long a target keeps an offer waiting for its outcome (and holds the player's calls). */
    static final Duration OUTCOME_WAIT = Duration.ofSeconds(10);
    /** How long the old owner waits for a target's answer to an offer. */
    static final Duration OFFER_TIMEOUT = Duration.ofSeconds(2);
    /** How long one compare-and-set (or a read of the link) may take before it is asked again. */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(2);
    /** The pause between two attempts to tell a target the outcome of a move. */
    static final long TELL_PAUSE_MILLIS = 200;
    /** Targets offered one player before it stays where it is. */
    static final int TARGETS_PER_PLAYER = 3;

    private static final Logger log = LoggerFactory.getLogger(Handoff.class);

    private final String nodeId;
    private final String service;
    private final LinkCache links;
    private final Discover discover;
    private final NodeCaller nodes;
    private final ScheduledExecutorService scheduler;
    private final BooleanSupplier closing;
    private final io.braid.api.internal.PlayerListener listener;
    private final io.braid.api.Ticker ticker;
    /** Offers made to this node and waiting for their outcome, by token. */
    private final ConcurrentHashMap<String, Offer> offers = new ConcurrentHashMap<>();

    /**
     * @param listener told each hand-over's end here ({@code handOverEnded}) and each player moved
     *                 here ({@code handOverReceived}), timed by {@code ticker}
     */
    Handoff(String nodeId, String service, LinkCache links, Discover discover, NodeCaller nodes,
            ScheduledExecutorService scheduler, BooleanSupplier closing,
            io.braid.api.internal.PlayerListener listener, io.braid.api.Ticker ticker) {
        this.listener = listener;
        this.ticker = ticker;
        this.nodeId = nodeId;
        this.service = service;
        this.links = links;
        this.discover = discover;
        this.nodes = nodes;
        this.scheduler = scheduler;
        this.closing = closing;
    }

    /**
     * An offer this node holds: the old owner's snapshot, and how its move ended (epoch, or 0:
     * void); {@code at} the ticker's reading when it came.
     */
    record Offer(long fromEpoch, byte[] snapshot, boolean noState, CompletableFuture<Long> outcome, long at) {
    }

    /** A player to activate here from an offer whose move succeeded: under {@code epoch}. */
    record Received(long epoch, byte[] snapshot, boolean noState) {
    }

    // ---- the old owner's side -------------------------------------------------------------------

    /**
     * In {@code token}'s lane: offers the player to up to {@value #TARGETS_PER_PLAYER} targets and
     * moves its link from {@code from} to the first that takes it. Blocks (the lane's virtual
     * thread). The player stays ({@link Moved#STAYED}) when no target took it, or the node closes
     * before the move's outcome is known; a link that changed meanwhile (not {@code from} any more)
     * comes back {@linkplain Moved#elsewhere elsewhere}, as it is now (null: removed).
     */
    Moved handOver(String token, Link from, byte[] snapshot, boolean noState) {
        return handOver(token, from, snapshot, noState, targets(TARGETS_PER_PLAYER));
    }

    /**
     * {@link #handOver(String, Link, byte[], boolean)} to the first of {@code targets} that takes the
     * player; its end is told to the listener ({@code handOverEnded}).
     */
    Moved handOver(String token, Link from, byte[] snapshot, boolean noState, List<Node> targets) {
        long started = ticker.read();
        String[] offeredTo = new String[1];
        Moved moved = handOverTo(token, from, snapshot, noState, targets, offeredTo);
        listener.handOverEnded(token, moved.to() != null ? moved.to().nodeId() : offeredTo[0],
                moved.handedOver() ? null : moved.elsewhere() ? io.braid.api.internal.PlayerListener.NotMoved.STALE
                        : io.braid.api.internal.PlayerListener.NotMoved.STAYED,
                Duration.ofNanos(ticker.read() - started));
        return moved;
    }

    private Moved handOverTo(String token, Link from, byte[] snapshot, boolean noState, List<Node> targets,
                             String[] offeredTo) {
        for (Node target : targets) {
            offeredTo[0] = target.id();
            if (!offer(target, token, from, snapshot, noState)) {
                continue;
            }
            Optional<Optional<Link>> known = moveKnown(token, from, target);
            if (known.isEmpty()) {
                return Moved.STAYED; // closing before the outcome was known: the offer expires at the target
            }
            Optional<Link> now = known.get();
            if (now.isEmpty()) {
                // The link was removed meanwhile (the cluster took this node for gone while Redis
                // was away, or it lost data): nobody owns the player, and this node holds its latest
                // state. It is linked to the target, which holds the offer, first writer wins.
                now = claimFor(token, target);
            }
            if (now.isPresent() && now.get().nodeId().equals(target.id())) {
                tellMoved(target, token, from.epoch(), now.get().epoch());
                return new Moved(now.get(), false);
            }
            tell(target, token, from.epoch(), 0); // best effort: the offer expires anyway
            return new Moved(now.orElse(null), true);
        }
        return Moved.STAYED;
    }

    /**
     * How a hand-over ended: {@code to} the new link (null: the player stayed, or its link was removed);
     * {@code elsewhere}: the link was not the expected one any more (the activation here is stale).
     */
    record Moved(Link to, boolean elsewhere) {
        static final Moved STAYED = new Moved(null, false);

        boolean handedOver() {
            return to != null && !elsewhere;
        }
    }

    /** The ACTIVE nodes of the service other than this one, up to {@code most}, drawn by weight. */
    List<Node> targets(int most) {
        List<Node> candidates = new ArrayList<>();
        for (Node node : discover.nodes(service)) {
            if (!node.id().equals(nodeId) && node.state() == NodeState.ACTIVE && node.weight() > 0) {
                candidates.add(node);
            }
        }
        List<Node> drawn = new ArrayList<>(Math.min(most, candidates.size()));
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (!candidates.isEmpty() && drawn.size() < most) {
            long total = 0;
            for (Node node : candidates) {
                total += node.weight();
            }
            long pick = random.nextLong(total);
            for (int i = 0; i < candidates.size(); i++) {
                pick -= candidates.get(i).weight();
                if (pick < 0) {
                    drawn.add(candidates.remove(i));
                    break;
                }
            }
        }
        return drawn;
    }

    private boolean offer(Node target, String token, Link from, byte[] snapshot, boolean noState) {
        HandoffOffer offer = HandoffOffer.newBuilder().setToken(token).setFromNode(nodeId).setFromEpoch(from.epoch())
                .setSnapshot(ByteString.copyFrom(snapshot)).setNoState(noState).build();
        try {
            HandoffAnswer answer = HandoffAnswer.parseFrom(nodes.call(target.id(), OFFER, offer.toByteArray(),
                    OFFER_TIMEOUT).get(OFFER_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS));
            if (!answer.getAccepted()) {
                log.debug("node {} refused player {}: {}", target.id(), token, answer.getReason());
            }
            return answer.getAccepted();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException | InvalidProtocolBufferException e) {
            log.info("offering player {} to node {} failed ({}); trying another", token, target.id(),
                    BraidException.from(e).getMessage());
            return false;
        }
    }

    /**
     * Moves the link of {@code token} from {@code from} to {@code target} and returns the link as it
     * is once the outcome is known: the target's (moved), another, or none (removed). Empty while
     * unknown when the node closes. Blocks (the lane's virtual thread).
     */
    private Optional<Optional<Link>> moveKnown(String token, Link from, Node target) {
        long pause = 50;
        while (true) {
            try {
                Optional<Link> moved = links.moveAsync(token, from, target)
                        .get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (moved.isPresent()) {
                    return Optional.of(moved);
                }
                // Not the expected link (any more): what is it? A cache that still says `from` has
                // not heard the change yet; the compare-and-set is asked again.
                Optional<Link> now = links.linkOfAsync(token, service).get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (!now.equals(Optional.of(from))) {
                    return Optional.of(now);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            } catch (ExecutionException | TimeoutException e) {
                log.warn("moving player {} to node {}: the outcome is not known ({}); asking again",
                        token, target.id(), BraidException.from(e).getMessage());
            }
            if (closing.getAsBoolean()) {
                return Optional.empty();
            }
            try {
                Thread.sleep(pause); // the lane's virtual thread: the player's calls wait, as they must
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
            pause = Math.min(1_000, pause * 2);
        }
    }

    /** Links the unowned {@code token} to {@code target}: the link in place after (empty when it cannot be made). */
    private Optional<Link> claimFor(String token, Node target) {
        try {
            return Optional.of(links.claimAsync(token, target).get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("player {} lost its link while moving to node {}, and cannot be linked to it ({})", token,
                    target.id(), BraidException.from(e).getMessage());
        }
        return Optional.empty();
    }

    /**
     * Tells {@code target} the player moved to it under {@code epoch}, in the lane, asking again
     * (every {@value #TELL_PAUSE_MILLIS} ms) until it answered, the target's offer would have expired,
     * the target left discovery (it died: the player's next call finds it a new owner), or the node
     * closes: the player's calls wait at the target until it knows (it activates the
     * player without the snapshot if it never hears).
     */
    private void tellMoved(Node target, String token, long fromEpoch, long epoch) {
        long giveUp = System.nanoTime() + OUTCOME_WAIT.toNanos();
        Throwable last = null;
        while (System.nanoTime() - giveUp < 0 && !closing.getAsBoolean() && listed(target)) {
            try {
                tell(target, token, fromEpoch, epoch).get(OFFER_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException e) {
                last = e;
            }
            try {
                Thread.sleep(TELL_PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        log.warn("node {} was not told that player {} moved to it under epoch {}; it activates the player without "
                + "the snapshot once its offer expires", target.id(), token, epoch, last);
    }

    private boolean listed(Node target) {
        return discover.nodes(service).stream().anyMatch(node -> node.id().equals(target.id()));
    }

    private CompletableFuture<byte[]> tell(Node target, String token, long fromEpoch, long epoch) {
        HandoffOutcome outcome = HandoffOutcome.newBuilder().setToken(token).setFromEpoch(fromEpoch).setEpoch(epoch)
                .build();
        return nodes.call(target.id(), OUTCOME, outcome.toByteArray(), OFFER_TIMEOUT);
    }

    // ---- the target's side ----------------------------------------------------------------------

    /**
     * An offer reached this node: kept for {@link #OUTCOME_WAIT} unless {@code refusal} names a reason
     * to refuse it (closing, draining, the player active here).
     */
    byte[] offered(byte[] request, String refusal) throws InvalidProtocolBufferException {
        HandoffOffer offer = HandoffOffer.parseFrom(request);
        if (offer.getToken().isEmpty()) {
            throw new BraidException(Code.INVALID_ARGUMENT, "a handoff offer needs the player's token");
        }
        if (refusal != null) {
            return HandoffAnswer.newBuilder().setReason(refusal).build().toByteArray();
        }
        Offer held = new Offer(offer.getFromEpoch(), offer.getSnapshot().toByteArray(), offer.getNoState(),
                new CompletableFuture<>(), ticker.read());
        Offer replaced = offers.put(offer.getToken(), held);
        if (replaced != null) {
            replaced.outcome().complete(0L); // an older offer of the same player: void
        }
        scheduler.schedule(() -> {
            if (offers.remove(offer.getToken(), held)) {
                held.outcome().complete(0L);
            }
        }, OUTCOME_WAIT.toNanos(), TimeUnit.NANOSECONDS);
        return HandoffAnswer.newBuilder().setAccepted(true).build().toByteArray();
    }

    /**
     * The outcome of an offer reached this node; returns the token when the player moved here
     * (the caller activates it in its lane), else null.
     */
    String decided(byte[] request) throws InvalidProtocolBufferException {
        HandoffOutcome outcome = HandoffOutcome.parseFrom(request);
        Offer held = offers.get(outcome.getToken());
        if (held == null || held.fromEpoch() != outcome.getFromEpoch()) {
            return null;
        }
        held.outcome().complete(outcome.getEpoch());
        if (outcome.getEpoch() == 0) {
            offers.remove(outcome.getToken(), held);
            return null;
        }
        listener.handOverReceived(outcome.getToken(), outcome.getEpoch(), Duration.ofNanos(ticker.read() - held.at()));
        return outcome.getToken();
    }

    /**
     * In {@code token}'s lane, before activating it: the offer this node holds for it, waited for
     * (at most until it expires, or {@code deadline} passes when one is given). Returns what to
     * activate when its move succeeded; null when there is no offer or it came to nothing.
     *
     * @throws BraidException DEADLINE_EXCEEDED when {@code deadline} passed first (the offer stays)
     */
    Received awaitOffer(String token, io.braid.api.Deadline deadline) {
        Offer held = offers.get(token);
        if (held == null) {
            return null;
        }
        long wait = TimeUnit.MILLISECONDS.toNanos(OUTCOME_WAIT.toMillis() + 1_000);
        boolean byDeadline = deadline != null && deadline.remainingNanos() < wait;
        long epoch;
        try {
            epoch = held.outcome().get(byDeadline ? Math.max(0, deadline.remainingNanos()) : wait, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (TimeoutException e) {
            if (byDeadline) {
                throw new BraidException(Code.DEADLINE_EXCEEDED, "player " + token + " is being handed over to node "
                        + nodeId + " and its move was not settled within the call's deadline; the call did not run");
            }
            epoch = 0;
        } catch (ExecutionException e) {
            epoch = 0;
        }
        offers.remove(token, held);
        return epoch > 0 ? new Received(epoch, held.snapshot(), held.noState()) : null;
    }
}
