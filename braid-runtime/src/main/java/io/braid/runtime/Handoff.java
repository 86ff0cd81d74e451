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
import io.braid.runtime.internal.wire.HandoffAnswers;
import io.braid.runtime.internal.wire.HandoffOffer;
import io.braid.runtime.internal.wire.HandoffOffers;
import io.braid.runtime.internal.wire.HandoffOutcome;
import io.braid.runtime.internal.wire.HandoffOutcomes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands players of this node over to other nodes of its service, and takes the players handed to
 * it. Per player, the old owner, in the player's lane (so the player's calls wait behind it and
 * none runs meanwhile); a drain or a rebalance does this for a batch of players at once
 * ({@code PlayerMoves}), with one offer message and one outcome message per batch and target:
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
    /** Offers of one or more players ({@code HandoffOffers}), answered one by one ({@code HandoffAnswers}). */
    static final String OFFER = "braid.players.offers";
    /** The outcomes of one or more offers ({@code HandoffOutcomes}). */
    static final String OUTCOME = "braid.players.outcomes";
    /** One offer ({@code HandoffOffer}), as nodes of an earlier version send it: still taken. */
    static final String OFFER_ONE = "braid.players.offer";
    /** One outcome ({@code HandoffOutcome}), as nodes of an earlier version send it: still taken. */
    static final String OUTCOME_ONE = "braid.players.outcome";
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
    private static final HandoffAnswer ACCEPTED = HandoffAnswer.newBuilder().setAccepted(true).build();

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
        Offering one = new Offering(token, from, snapshot, noState);
        for (Node target : targets) {
            offeredTo[0] = target.id();
            if (!offerAll(target, List.of(one))[0]) {
                continue;
            }
            Moved moved = settle(token, from, target);
            tellAll(target, List.of(one), new Moved[] {moved});
            return moved;
        }
        return Moved.STAYED;
    }

    /** A player offered to a target: its token, the link it moves from, its snapshot (empty with {@code noState}). */
    record Offering(String token, Link from, byte[] snapshot, boolean noState) {
    }

    /**
     * The link of {@code token}, offered to {@code target}, which took the offer: moved from
     * {@code from} to the target ({@link #moveKnown}; a link removed meanwhile is claimed for the
     * target). Blocks (the player's lane, on its virtual thread).
     */
    Moved settle(String token, Link from, Node target) {
        return settle(token, from, target, null);
    }

    /**
     * {@link #settle(String, Link, Node)} whose first compare-and-set is {@code first}, asked
     * already ({@link #move}) while the player's lane was held for it.
     */
    Moved settle(String token, Link from, Node target, CompletableFuture<Optional<Link>> first) {
        Optional<Optional<Link>> known = moveKnown(token, from, target, first);
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
            return new Moved(now.get(), false);
        }
        return new Moved(now.orElse(null), true);
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

    /**
     * Offers {@code players} to {@code target} in one message; which of them it took, in order (none
     * when the message failed or its answer did not come within {@link #OFFER_TIMEOUT}). Blocks.
     */
    boolean[] offerAll(Node target, List<Offering> players) {
        HandoffOffers.Builder offers = HandoffOffers.newBuilder();
        for (Offering player : players) {
            offers.addOffers(HandoffOffer.newBuilder().setToken(player.token()).setFromNode(nodeId)
                    .setFromEpoch(player.from().epoch()).setSnapshot(ByteString.copyFrom(player.snapshot()))
                    .setNoState(player.noState()));
        }
        boolean[] accepted = new boolean[players.size()];
        try {
            HandoffAnswers answers = HandoffAnswers.parseFrom(nodes.call(target.id(), OFFER,
                    offers.build().toByteArray(), OFFER_TIMEOUT).get(OFFER_TIMEOUT.toMillis() + 500,
                    TimeUnit.MILLISECONDS));
            for (int i = 0; i < accepted.length && i < answers.getAnswersCount(); i++) {
                HandoffAnswer answer = answers.getAnswers(i);
                accepted[i] = answer.getAccepted();
                if (!answer.getAccepted()) {
                    log.debug("node {} refused player {}: {}", target.id(), players.get(i).token(), answer.getReason());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | InvalidProtocolBufferException e) {
            log.info("offering {} to node {} failed ({}); trying another", players.size() == 1
                    ? "player " + players.get(0).token() : players.size() + " players", target.id(),
                    BraidException.from(e).getMessage());
        }
        return accepted;
    }

    /**
     * Asks the compare-and-set of {@code token}'s link from {@code from} to {@code target} once; the
     * caller holds the player's lane and hands the answer to {@link #settle}. A batch asks its
     * players' moves one after the other from one thread: on the in-memory plane each takes the
     * links' lock once without contention, on Redis they leave in one pipeline. Never throws.
     */
    CompletableFuture<Optional<Link>> move(String token, Link from, Node target) {
        try {
            return links.moveAsync(token, from, target);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Moves the link of {@code token} from {@code from} to {@code target} and returns the link as it
     * is once the outcome is known: the target's (moved), another, or none (removed). Empty while
     * unknown when the node closes. {@code first}: the first compare-and-set, asked already (null:
     * asked here). Blocks (the lane's virtual thread).
     */
    private Optional<Optional<Link>> moveKnown(String token, Link from, Node target,
                                               CompletableFuture<Optional<Link>> first) {
        long pause = 50;
        CompletableFuture<Optional<Link>> asked = first;
        while (true) {
            try {
                CompletableFuture<Optional<Link>> move = asked != null ? asked : links.moveAsync(token, from, target);
                asked = null;
                Optional<Link> moved = move.get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
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
     * Tells {@code target}, in one message, how the moves of the players it took ({@code players},
     * {@code moved} in the same order) ended: moved to it under an epoch, or void. A move whose
     * outcome is not known ({@link Moved#STAYED}: the node closed first) is not told (its offer
     * expires there). When at least one player moved to it, asks again (every
     * {@value #TELL_PAUSE_MILLIS} ms) until it answered, the target's offers would have expired,
     * the target left discovery (it died: the players' next calls find them a new owner), or the
     * node closes: the players' calls wait at the target until it knows (it activates a player
     * without the snapshot if it never hears). Only void outcomes: told once, best effort (the
     * offers expire anyway). Blocks.
     */
    void tellAll(Node target, List<Offering> players, Moved[] moved) {
        HandoffOutcomes.Builder outcomes = HandoffOutcomes.newBuilder();
        boolean anyMoved = false;
        for (int i = 0; i < moved.length; i++) {
            Moved one = moved[i];
            if (one == null || one == Moved.STAYED) {
                continue;
            }
            long epoch = one.handedOver() ? one.to().epoch() : 0;
            anyMoved |= epoch > 0;
            outcomes.addOutcomes(HandoffOutcome.newBuilder().setToken(players.get(i).token())
                    .setFromEpoch(players.get(i).from().epoch()).setEpoch(epoch));
        }
        if (outcomes.getOutcomesCount() == 0) {
            return;
        }
        byte[] request = outcomes.build().toByteArray();
        if (!anyMoved) {
            nodes.call(target.id(), OUTCOME, request, OFFER_TIMEOUT); // best effort: the offers expire anyway
            return;
        }
        long giveUp = System.nanoTime() + OUTCOME_WAIT.toNanos();
        Throwable last = null;
        while (System.nanoTime() - giveUp < 0 && !closing.getAsBoolean() && listed(target)) {
            try {
                nodes.call(target.id(), OUTCOME, request, OFFER_TIMEOUT)
                        .get(OFFER_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
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
        log.warn("node {} was not told that {} moved to it; it activates {} without the snapshot once its offer "
                + "expires", target.id(), players.size() == 1 ? "player " + players.get(0).token()
                : outcomes.getOutcomesCount() + " players", players.size() == 1 ? "it" : "them", last);
    }

    private boolean listed(Node target) {
        return discover.nodes(service).stream().anyMatch(node -> node.id().equals(target.id()));
    }

    // ---- the target's side ----------------------------------------------------------------------

    /**
     * Offers reached this node ({@value #OFFER}): each kept for {@link #OUTCOME_WAIT} unless
     * {@code refusal} names a reason to refuse it (closing, draining, the player active here);
     * answered one by one, in order.
     */
    byte[] offered(byte[] request, Function<String, String> refusal) throws InvalidProtocolBufferException {
        HandoffOffers offers = HandoffOffers.parseFrom(request);
        HandoffAnswers.Builder answers = HandoffAnswers.newBuilder();
        List<Map.Entry<String, Offer>> held = new ArrayList<>(offers.getOffersCount());
        for (HandoffOffer offer : offers.getOffersList()) {
            answers.addAnswers(hold(offer, refusal, held));
        }
        expireLater(held);
        return answers.build().toByteArray();
    }

    /** One offer reached this node ({@value #OFFER_ONE}, from a node of an earlier version), as {@link #offered}. */
    byte[] offeredOne(byte[] request, Function<String, String> refusal) throws InvalidProtocolBufferException {
        List<Map.Entry<String, Offer>> held = new ArrayList<>(1);
        HandoffAnswer answer = hold(HandoffOffer.parseFrom(request), refusal, held);
        expireLater(held);
        return answer.toByteArray();
    }

    private HandoffAnswer hold(HandoffOffer offer, Function<String, String> refusal, List<Map.Entry<String, Offer>> held) {
        if (offer.getToken().isEmpty()) {
            throw new BraidException(Code.INVALID_ARGUMENT, "a handoff offer needs the player's token");
        }
        String reason = refusal.apply(offer.getToken());
        if (reason != null) {
            return HandoffAnswer.newBuilder().setReason(reason).build();
        }
        Offer kept = new Offer(offer.getFromEpoch(), offer.getSnapshot().toByteArray(), offer.getNoState(),
                new CompletableFuture<>(), ticker.read());
        Offer replaced = offers.put(offer.getToken(), kept);
        if (replaced != null) {
            replaced.outcome().complete(0L); // an older offer of the same player: void
        }
        held.add(Map.entry(offer.getToken(), kept));
        return ACCEPTED;
    }

    /** Drops the offers of {@code held} still waiting for their outcome after {@link #OUTCOME_WAIT} (one timer for them all). */
    private void expireLater(List<Map.Entry<String, Offer>> held) {
        if (held.isEmpty()) {
            return;
        }
        scheduler.schedule(() -> {
            for (Map.Entry<String, Offer> offer : held) {
                if (offers.remove(offer.getKey(), offer.getValue())) {
                    offer.getValue().outcome().complete(0L);
                }
            }
        }, OUTCOME_WAIT.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * The outcomes of offers reached this node ({@value #OUTCOME}); returns the tokens of the players
     * that moved here (the caller activates each in its lane).
     */
    List<String> decided(byte[] request) throws InvalidProtocolBufferException {
        HandoffOutcomes outcomes = HandoffOutcomes.parseFrom(request);
        List<String> movedHere = new ArrayList<>(outcomes.getOutcomesCount());
        for (HandoffOutcome outcome : outcomes.getOutcomesList()) {
            String token = decided(outcome);
            if (token != null) {
                movedHere.add(token);
            }
        }
        return movedHere;
    }

    /** One outcome ({@value #OUTCOME_ONE}, from a node of an earlier version): the token if the player moved here, else null. */
    String decidedOne(byte[] request) throws InvalidProtocolBufferException {
        return decided(HandoffOutcome.parseFrom(request));
    }

    private String decided(HandoffOutcome outcome) {
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
