package io.braid.gateway.internal;

import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.api.Node;
import io.braid.gateway.Gateway;
import io.braid.gateway.GatewayPush;
import io.braid.gateway.SessionEvent;
import com.google.protobuf.ByteString;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.api.internal.UnknownMethod;
import io.braid.gateway.internal.proto.BufferedPush;
import io.braid.gateway.internal.proto.Claim;
import io.braid.gateway.internal.proto.Claimed;
import io.braid.gateway.internal.proto.Confirm;
import io.braid.gateway.internal.proto.Confirmed;
import io.braid.gateway.internal.proto.PushAccepted;
import io.braid.gateway.internal.proto.PushRequest;
import io.braid.runtime.Braid;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions of this gateway and their bindings: which gateway a player's token leads to.
 *
 * <p><b>The binding protocol.</b> A token's link in the gateway service (the link cache) names
 * the gateway that holds the player; only that gateway, the <em>binder</em>, changes the link,
 * and it handles one change of a token at a time ({@link TokenSerializer}). A gateway where the
 * player logs in puts the new session in its map (PENDING, kicking a session of the same token
 * here) and sends a {@link Claim} ({@value Gateway#CLAIM_METHOD}) routed by the token, so sticky
 * routing delivers it to the binder (a token without a link is linked first, by smooth weighted
 * round robin, to some gateway, which then is its binder). The binder confirms in the store that
 * it still is the binder ({@code linkAsync} to itself: atomic, first writer wins); if it holds a
 * session of the token itself, it first asks the claimant ({@value #CONFIRM_METHOD}, routed by
 * the claimant's node token) whether the claiming session still waits to be bound (a claim may
 * arrive late, after a later login kicked the session that sent it: such a claim changes
 * nothing), then kicks its own session; and it relinks the token to the claimant;
 * only then does the claimant mark its session BOUND, unless a later claim kicked it meanwhile.
 * A claim that reaches a gateway that is no longer the binder fails UNAVAILABLE and is sent again
 * (the caller's near cache catches up) until the login deadline. So two logins of one token,
 * wherever they happen, are ordered by the binder: the later one wins, the earlier one is kicked,
 * and never are both bound.
 *
 * <p><b>Ending.</b> A session whose connection ends is removed from the map only if it is still
 * the token's session here (compared by identity, so a late close of a kicked session changes
 * nothing), and then the link is removed only if it still points at this gateway
 * (compare-and-delete): a newer session here or on another gateway keeps its binding.
 *
 * <p><b>Durability.</b> Each session has a record and a push log in the control plane's
 * {@code GatewaySessionStore} ({@link SessionLog}): written at login before BOUND, appended to by
 * every push before the push is written or acknowledged, taken over (secret checked, rotated) by
 * every resume, compare-and-deleted by every end. So a resume whose binder is gone (its node left
 * discovery, or claims failed UNAVAILABLE for a while) is served from the store by the claimant
 * itself, and the sessions of a dead gateway that nobody resumes are ended once by a survivor
 * ({@link DeadGatewaySweep}). The records of the sessions here are kept alive by a
 * {@link SessionRecordRefresh}; a session whose record the store lost ends ({@link #storeLost}).
 *
 * <p>The binder wires these: it starts the refresh and the sweep in {@link #register} and stops
 * them when it closes or crashes.
 *
 * <p>Thread-safe; nothing here blocks.
 */
public final class Binder {
    private static final Logger log = LoggerFactory.getLogger(Binder.class);
    /** Asked by a binder of a claimant; see {@link #confirm}. */
    static final String CONFIRM_METHOD = "braid.gateway.confirm";
    /** Prefix of the tokens that route to one gateway node (see {@link #nodeToken}). */
    static final String NODE_TOKEN_PREFIX = "braid.gateway.node:";
    private static final long FIRST_RETRY_MILLIS = 5;
    private static final long MAX_RETRY_MILLIS = 200;
    /** A claim's answer sent with less of its deadline left than this may reach a claimant that gave up. */
    private static final long ANSWER_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** A resume claim whose binder stays unreachable this long (at most half the login timeout) is served from the store. */
    private static final Duration TAKE_OVER_AFTER = Duration.ofSeconds(1);

    private final Braid braid;
    private final String service;
    private final SessionEvents events;
    private final ScheduledExecutorService scheduler;
    private final Duration callTimeout;
    private final GatewaySettings settings;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final TokenSerializer serializer = new TokenSerializer();
    /** The ends of sessions under way (see {@link #awaitEnds}). */
    private final Set<CompletableFuture<Void>> ending = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Stopped as if the process died: nothing more is written anywhere (see {@link #crash}). */
    private volatile boolean crashed;
    private final SessionLog durable;
    /** How long a resume claim's binder may stay unreachable before the claimant takes the session over from the store. */
    private final long takeOverAfterNanos;
    private final SessionRecordRefresh recordRefresh;
    private final DeadGatewaySweep deadGatewaySweep;
    private volatile Runnable unregisterView;
    private final GatewayMeters meters;

    Binder(Braid braid, SessionEvents events, ScheduledExecutorService scheduler, GatewaySettings settings,
           GatewayMeters meters) {
        this.meters = meters;
        this.braid = braid;
        this.settings = settings;
        this.service = braid.node().service();
        this.events = events;
        this.scheduler = scheduler;
        this.callTimeout = settings.callTimeout();
        this.durable = new SessionLog(braid.gatewaySessions(), braid.node().id(), settings);
        this.takeOverAfterNanos = Math.min(settings.loginTimeout().toNanos() / 2, TAKE_OVER_AFTER.toNanos());
        this.recordRefresh = new SessionRecordRefresh(durable, scheduler, sessions.values(), this::storeLost);
        this.deadGatewaySweep = new DeadGatewaySweep(braid, durable, events, scheduler, settings.resumeGrace());
    }

    /**
     * Registers the binder's methods on the gateway node's server, and starts the record refresh,
     * the sweep of dead gateways and the player view.
     */
    void register() {
        braid.server().handleAsync(Gateway.CLAIM_METHOD, Claim.parser(), this::onClaim);
        braid.server().handleAsync(Gateway.PUSH_METHOD, PushRequest.parser(), this::onPush);
        braid.server().handleAsync(CONFIRM_METHOD, Confirm.parser(), this::onConfirm);
        recordRefresh.start();
        deadGatewaySweep.start();
        unregisterView = braid.addPlayerViewContributor(this::describe);
    }

    /** The monitor's "where is a player?": the token's session here, if any (see {@link Session#describe}). */
    Map<String, String> describe(String token) {
        Session session = sessions.get(token);
        return session == null ? Map.of() : session.describe(settings.resumeGrace());
    }

    /**
     * The store lost what it had acknowledged for {@code session} (its record is gone, or it numbered
     * a push at a seq it had given before: Redis restarted without its data, was flushed, or came back
     * without its last writes): its pushes and resume can no longer be exact, so it ends now rather
     * than stay stuck or miss pushes silently: the client gets {@code Error NOT_FOUND} with
     * {@code reason} and the connection closes (its resume is refused and it logs in afresh: it learns
     * that pushes it had not received are gone), one CLOSED fires, and the link to this gateway is removed.
     */
    private void storeLost(Session session, String reason) {
        if (crashed) {
            return;
        }
        tracked(serializer.run(session.token(), () -> {
            if (!sessions.remove(session.token(), session)) {
                return CompletableFuture.completedFuture(null);
            }
            Session.State before = session.lose(reason);
            if (before == Session.State.BOUND || before == Session.State.DETACHED) {
                log.warn("gateway {}: token {}: {}", braid.node().id(), session.token(), reason);
                events.fire(SessionEvent.Type.CLOSED, session, reason);
            }
            return unbind(session);
        }));
    }

    int sessionCount() {
        return (int) sessions.values().stream().filter(session -> session.state() == Session.State.BOUND).count();
    }

    /**
     * Starts a session for {@code token} on {@code channel} and binds it; completes with the
     * session once it is BOUND, or fails: UNAVAILABLE when the binding could not be made before
     * {@code deadline}, FAILED_PRECONDITION when the session was kicked by a later login or its
     * connection ended meanwhile.
     */
    CompletableFuture<Session> bind(String token, Channel channel, Deadline deadline) {
        Session session = Session.login(token, UUID.randomUUID().toString(), channel, durable, this::storeLost);
        return serializer.run(token, () -> {
            if (!channel.isActive()) {
                throw new BraidException(Code.CANCELLED, "the connection closed during login");
            }
            Session replaced = sessions.put(token, session);
            if (replaced != null) {
                kicked(replaced, "logged in again on gateway " + braid.node().id());
            }
            // Runs as a later step of this token, whenever the connection ends (at once if it already has).
            channel.closeFuture().addListener(closed -> connectionEnded(session));
            return CompletableFuture.completedFuture(null);
        }).thenCompose(installed -> claim(session, deadline, FIRST_RETRY_MILLIS, null)).thenCompose(claimed ->
                serializer.run(token, () -> {
                    if (sessions.get(token) != session || session.state() != Session.State.PENDING) {
                        return endedWhileBinding(session);
                    }
                    // The durable record first (replacing an older session's): a push is logged only against it.
                    return durable.open(token, session.id(), session.secretHash()).handle((opened, failure) -> {
                        if (failure != null) {
                            return releaseIfOrphaned(token).<Session>thenApply(ignored -> {
                                throw new BraidException(Code.UNAVAILABLE, "cannot record the session of token "
                                        + token + ": " + BraidException.from(failure).getMessage());
                            });
                        }
                        if (sessions.get(token) == session && session.markBound()) {
                            events.fire(SessionEvent.Type.BOUND, session, "");
                            return CompletableFuture.completedFuture(session);
                        }
                        return endedWhileBinding(session);
                    }).thenCompose(next -> next);
                }));
    }

    /** Kicked or closed while the claim was under way: the link may lead here with no session. */
    private CompletableFuture<Session> endedWhileBinding(Session session) {
        return releaseIfOrphaned(session.token()).thenApply(ignored -> {
            throw new BraidException(Code.FAILED_PRECONDITION, "session " + session.id() + " of token "
                    + session.token() + " ended while it was being bound (" + session.state() + ")");
        });
    }


    /** What a resume claim carries besides the session id: the presented secret and the last push seen. */
    private record ResumeClaim(String secret, long seen) {
    }

    /**
     * Resumes the session named by {@code resume} on {@code channel}, here or by a claim to the
     * gateway that holds it; completes with the session once it is BOUND and its Resumed frame and
     * replay are written, or fails: UNAUTHENTICATED (wrong resume token), NOT_FOUND (no such
     * session any more), RESOURCE_EXHAUSTED (a gap in the replay buffer; the session is closed),
     * FAILED_PRECONDITION (ended while resuming), UNAVAILABLE (no binder reachable before the deadline).
     */
    CompletableFuture<Session> resume(Session.ResumeToken resume, long seen, Channel channel, Deadline deadline) {
        String token = resume.token();
        AtomicReference<Session> claimant = new AtomicReference<>();
        return serializer.run(token, () -> {
            if (!channel.isActive()) {
                throw new BraidException(Code.CANCELLED, "the connection closed during the resume");
            }
            if (closed) {
                throw new BraidException(Code.UNAVAILABLE, "gateway " + braid.node().id() + " is closing");
            }
            Session here = sessions.get(token);
            if (here != null && here.id().equals(resume.sessionId()) && here.state() != Session.State.PENDING) {
                Session fresh = Session.resuming(token, here.id(), channel, durable, resume.secret(), this::storeLost);
                return takeOver(here, resume.secret(), seen, braid.node().id(), fresh.secretHash()).thenApply(replay -> {
                    sessions.put(token, fresh);
                    channel.closeFuture().addListener(ended -> connectionEnded(fresh));
                    fresh.bindResumed(replay);
                    events.fire(SessionEvent.Type.RESUMED, fresh, "resumed on gateway " + braid.node().id());
                    return fresh;
                });
            }
            if (here != null) {
                throw new BraidException(Code.NOT_FOUND, "session " + resume.sessionId() + " of token " + token
                        + " is no longer current on gateway " + braid.node().id() + "; log in afresh");
            }
            Session fresh = Session.resuming(token, resume.sessionId(), channel, durable, resume.secret(), this::storeLost);
            sessions.put(token, fresh);
            channel.closeFuture().addListener(ended -> connectionEnded(fresh));
            claimant.set(fresh);
            return CompletableFuture.completedFuture(null);
        }).thenCompose(local -> local != null ? CompletableFuture.completedFuture(local)
                : resumeElsewhere(claimant.get(), new ResumeClaim(resume.secret(), seen), deadline));
    }

    private CompletableFuture<Session> resumeElsewhere(Session fresh, ResumeClaim resume, Deadline deadline) {
        String token = fresh.token();
        return claim(fresh, deadline, FIRST_RETRY_MILLIS, resume).whenComplete((claimed, failure) -> {
            if (failure != null && inDoubt(BraidException.from(failure).code())) {
                // The binder may yet land the takeover, naming this gateway: if nobody resumes the
                // session here within the grace, it ends here (compare-and-delete; else nothing happens).
                scheduleRecordGraceEnd(token, fresh.id());
            }
        }).thenCompose(claimed -> serializer.run(token, () -> {
            if (sessions.get(token) == fresh && fresh.bindResumed(replay(claimed))) {
                events.fire(SessionEvent.Type.RESUMED, fresh, "resumed on gateway " + braid.node().id());
                return CompletableFuture.completedFuture(fresh);
            }
            // The record is ours now, but the connection ended before Resumed could be written (the
            // client gave up on a slow resume): the token it holds must work for its next attempt, and
            // if none comes within the grace the session ends here (see recordGraceEnded).
            scheduleRecordGraceEnd(token, fresh.id());
            return acceptPreviousSecret(fresh).thenCompose(accepted -> releaseIfOrphaned(token)).thenApply(ignored -> {
                throw new BraidException(Code.FAILED_PRECONDITION, "session " + fresh.id() + " of token " + token
                        + " ended while it was being resumed (" + fresh.state() + ")");
            });
        }));
    }

    /** Whether a claim that failed with {@code code} may still have been carried out by its binder. */
    private static boolean inDoubt(Code code) {
        return code == Code.DEADLINE_EXCEEDED || code == Code.UNAVAILABLE || code == Code.CANCELLED
                || code == Code.UNKNOWN || code == Code.INTERNAL;
    }

    private void scheduleRecordGraceEnd(String token, String sessionId) {
        try {
            scheduler.schedule(() -> recordGraceEnded(token, sessionId), settings.resumeGrace().toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the gateway is closing; the record expires by its ttl
        }
    }

    /**
     * The grace of a session whose record this gateway took over while no session object here held
     * it (its resume's connection ended first) is over: unless it was resumed meanwhile (here, or
     * elsewhere: the record names another gateway), the record is ended (compare-and-delete), one
     * CLOSED fires and the link to this gateway goes, as for a DETACHED session.
     */
    private void recordGraceEnded(String token, String sessionId) {
        if (closed) {
            return;
        }
        tracked(serializer.run(token, () -> {
            Session here = sessions.get(token);
            if (here != null && here.id().equals(sessionId)) {
                return CompletableFuture.completedFuture(null); // resumed here: its own grace applies
            }
            return durable.end(token, sessionId).handle((removed, failure) -> {
                if (failure == null && removed) {
                    events.fire(SessionEvent.Type.CLOSED, token, sessionId, braid.node().id(), "not resumed within"
                            + " the resume grace of " + settings.resumeGrace().toMillis() + " ms (its last resume"
                            + " ended before the client got it)");
                    return releaseIfOrphaned(token);
                }
                return CompletableFuture.<Void>completedFuture(null);
            }).thenCompose(next -> next);
        }));
    }

    /**
     * In a serialized step of the session's token: hands {@code mine} (held here) over to a resume
     * on {@code newGateway} (see {@link Session#handOver}), taking its record over in the store;
     * completes with the pushes after {@code seen}. On a gap in the log closes it (CLOSED, unbound)
     * and fails RESOURCE_EXHAUSTED; when the store has no record of it (it ended, or another gateway
     * took it over) lets it go without an event and fails NOT_FOUND; otherwise (the store
     * unreachable, {@code seen} beyond its last push) the session stays as it was.
     */
    private CompletableFuture<GatewaySessionStore.Replay> takeOver(Session mine, String secret, long seen,
                                                                   String newGateway, byte[] newSecretHash) {
        Session.State before;
        try {
            before = mine.handOver(secret);
        } catch (BraidException e) {
            return CompletableFuture.failedFuture(e);
        }
        // The store checks the presented secret again, and remembers it as the one the client surely holds.
        return durable.takeOver(mine.token(), mine.id(), secret, seen, braid.node().id(), newGateway, newSecretHash)
                .handle((replay, failure) -> {
                    if (failure == null) {
                        sessions.remove(mine.token(), mine);
                        mine.handedOver();
                        return CompletableFuture.completedFuture(replay);
                    }
                    BraidException e = BraidException.from(failure);
                    if (e.code() == Code.NOT_FOUND) {
                        sessions.remove(mine.token(), mine);
                        mine.handedOver();
                        return CompletableFuture.<GatewaySessionStore.Replay>failedFuture(e);
                    }
                    mine.handOverFailed(before);
                    if (e.code() != Code.RESOURCE_EXHAUSTED) {
                        return CompletableFuture.<GatewaySessionStore.Replay>failedFuture(e);
                    }
                    return finish(mine, "replay buffer bound hit: cannot resume exactly")
                            .<GatewaySessionStore.Replay>thenApply(ignored -> {
                                throw e;
                            });
                }).thenCompose(next -> next);
    }

    /** What a takeover answers, as a Claimed. */
    private static Claimed claimed(GatewaySessionStore.Replay replay) {
        Claimed.Builder answer = Claimed.newBuilder().setLastPushSeq(replay.lastSeq());
        for (GatewaySessionStore.Push push : replay.pushes()) {
            answer.addReplay(BufferedPush.newBuilder().setPushSeq(push.seq()).setPayload(ByteString.copyFrom(push.payload())));
        }
        return answer.build();
    }

    /** What a binder answered a resume claim, as a Replay. */
    private static GatewaySessionStore.Replay replay(Claimed claimed) {
        List<GatewaySessionStore.Push> pushes = new ArrayList<>(claimed.getReplayCount());
        for (BufferedPush push : claimed.getReplayList()) {
            pushes.add(new GatewaySessionStore.Push(push.getPushSeq(), push.getPayload().toByteArray()));
        }
        return new GatewaySessionStore.Replay(claimed.getLastPushSeq(), pushes);
    }

    private CompletableFuture<Claimed> claim(Session session, Deadline deadline, long retryMillis,
                                             ResumeClaim resume) {
        return claim(session, deadline, retryMillis, resume, 0L);
    }

    /** {@code unreachableSince}: when claims of this resume began failing UNAVAILABLE (System.nanoTime), 0 if they have not. */
    private CompletableFuture<Claimed> claim(Session session, Deadline deadline, long retryMillis,
                                             ResumeClaim resume, long unreachableSince) {
        if (session.state() != Session.State.PENDING) {
            return CompletableFuture.failedFuture(new BraidException(Code.FAILED_PRECONDITION,
                    "session " + session.id() + " ended while it was being bound (" + session.state() + ")"));
        }
        if (deadline.isExpired()) {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE,
                    "cannot bind token " + session.token() + " before the login deadline"));
        }
        Claim.Builder claimBuilder = Claim.newBuilder().setClaimantNode(braid.node().id()).setSessionId(session.id());
        if (resume != null) {
            claimBuilder.setResumeSecret(resume.secret()).setLastPushSeq(resume.seen())
                    .setNewSecretHash(ByteString.copyFrom(session.secretHash()));
        }
        Claim claim = claimBuilder.build();
        CallOptions options = CallOptions.DEFAULT.withDeadline(deadline).withTimeout(callTimeout);
        return braid.client().invoke(service, Gateway.CLAIM_METHOD, session.token(), claim, Claimed.parser(), options)
                .handle((claimed, failure) -> {
                    if (failure == null) {
                        return CompletableFuture.completedFuture(claimed);
                    }
                    BraidException e = BraidException.from(failure);
                    // A gateway node between its start and its gateway's has no claim method yet: not an answer.
                    boolean notYetServing = UnknownMethod.is(e);
                    if ((e.code() != Code.UNAVAILABLE && !notYetServing) || deadline.isExpired()) {
                        return CompletableFuture.<Claimed>failedFuture(e);
                    }
                    long since = unreachableSince != 0L ? unreachableSince : System.nanoTime();
                    CompletableFuture<Boolean> gone = resume == null ? CompletableFuture.completedFuture(false)
                            : binderGone(session.token());
                    return gone.thenCompose(binderGone -> {
                        if (resume != null && (binderGone || System.nanoTime() - since >= takeOverAfterNanos)) {
                            // The binder is dead (or unreachable for long): the store's record is the session.
                            log.info("resume of token {}: binder unreachable ({}); taking session {} over from the"
                                    + " store", session.token(), e.getMessage(), session.id());
                            return takeOverFromStore(session, resume);
                        }
                        // The binder moved (or is moving): ask again once our view of the link has caught up.
                        log.debug("claim of token {} refused, asking again in {} ms: {}", session.token(), retryMillis,
                                e.getMessage());
                        return later(retryMillis).thenCompose(ignored ->
                                claim(session, deadline, Math.min(retryMillis * 2, MAX_RETRY_MILLIS), resume, since));
                    });
                }).thenCompose(next -> next);
    }

    /**
     * Whether the token's link names a gateway that is not in discovery (it died, or left); false
     * when the link cannot be read. Never blocks: it runs in a call's callback, maybe on the event
     * loop that would carry the link cache's own answer (a blocking read there never completes).
     */
    private CompletableFuture<Boolean> binderGone(String token) {
        return braid.linkCache().targetAsync(token, service).handle((binder, failure) -> failure == null
                && binder.isPresent() && braid.discover().nodes(service).stream()
                        .noneMatch(node -> node.id().equals(binder.get())));
    }

    /**
     * The claimant's own takeover of a session whose binder is gone: moves the record here in the
     * store (checking the secret; the first of racing resumes rotates it, so exactly one wins) and
     * relinks the token here, overwriting the link to the dead gateway.
     */
    private CompletableFuture<Claimed> takeOverFromStore(Session fresh, ResumeClaim resume) {
        Node self = braid.node();
        return durable.takeOver(fresh.token(), fresh.id(), resume.secret(), resume.seen(), null, self.id(),
                fresh.secretHash()).thenCompose(replay -> braid.linkCache().relinkAsync(fresh.token(), self)
                .thenApply(relinked -> claimed(replay)));
    }

    private CompletableFuture<Void> later(long millis) {
        CompletableFuture<Void> due = new CompletableFuture<>();
        try {
            scheduler.schedule(() -> due.complete(null), millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            due.completeExceptionally(new BraidException(Code.UNAVAILABLE, "gateway closing"));
        }
        return due;
    }

    /** {@value Gateway#CLAIM_METHOD}: this gateway is asked, as the token's binder, to hand it over. */
    private CompletableFuture<Claimed> onClaim(CallContext call, Claim claim) {
        String token = call.token();
        if (token.isEmpty()) {
            return CompletableFuture.failedFuture(new BraidException(Code.INVALID_ARGUMENT, "a claim needs a token"));
        }
        if (closed) {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE,
                    "gateway " + braid.node().id() + " is closing"));
        }
        Node self = braid.node();
        return serializer.run(token, () -> braid.linkCache().linkAsync(token, self).thenCompose(binder -> {
            if (!self.id().equals(binder)) {
                throw new BraidException(Code.UNAVAILABLE, "token " + token + " is bound to gateway " + binder
                        + ", not " + self.id());
            }
            Claimed.Builder answer = Claimed.newBuilder();
            Session mine = sessions.get(token);
            if (!claim.getResumeSecret().isEmpty()) {
                return onResumeClaim(call, claim, mine, answer);
            }
            boolean selfClaim = self.id().equals(claim.getClaimantNode());
            if (selfClaim && (mine == null || !mine.id().equals(claim.getSessionId()))) {
                // A newer login here replaced the claimed session (or it ended): it must not kick the newer one.
                throw new BraidException(Code.FAILED_PRECONDITION, "session " + claim.getSessionId() + " of token "
                        + token + " is no longer current on gateway " + self.id());
            }
            if (selfClaim) {
                return CompletableFuture.completedFuture(answer.build());
            }
            Node claimant = gatewayNode(claim.getClaimantNode());
            if (mine == null) {
                return braid.linkCache().relinkAsync(token, claimant).thenApply(relinked -> answer.build());
            }
            // Kick ours only for a claim whose session still waits for it: a claim can arrive late.
            return confirm(claimant, token, claim.getSessionId(), call.deadline()).thenCompose(confirmed -> {
                if (sessions.remove(token, mine)) {
                    kicked(mine, "logged in again on gateway " + claim.getClaimantNode());
                    answer.setKickedSessionId(mine.id());
                }
                return braid.linkCache().relinkAsync(token, claimant).thenApply(relinked -> answer.build());
            });
        }));
    }

    /**
     * A resume claim at the binder: hands its session over (if it holds it) with its replay, or
     * else (the gateway that held it died, or this is the claimant itself after the link to a dead
     * gateway was cleared) takes the session over from the store; then relinks the token to the
     * claimant. Runs as a serialized step of the token.
     */
    private CompletableFuture<Claimed> onResumeClaim(CallContext call, Claim claim, Session mine,
                                                     Claimed.Builder answer) {
        String token = call.token();
        Node claimant = gatewayNode(claim.getClaimantNode());
        byte[] newHash = claim.getNewSecretHash().toByteArray();
        boolean holder = mine != null && mine.id().equals(claim.getSessionId()) && mine.state() != Session.State.PENDING;
        CompletableFuture<GatewaySessionStore.Replay> taken = holder
                ? takeOver(mine, claim.getResumeSecret(), claim.getLastPushSeq(), claimant.id(), newHash)
                : durable.takeOver(token, claim.getSessionId(), claim.getResumeSecret(), claim.getLastPushSeq(), null,
                        claimant.id(), newHash);
        return taken.handle((replay, failure) -> {
            if (failure == null) {
                return braid.linkCache().relinkAsync(token, claimant)
                        .thenCompose(relinked -> keepPreviousSecretIfAbandoned(call, claim))
                        .thenApply(kept -> claimed(replay));
            }
            BraidException e = BraidException.from(failure);
            return (sessions.containsKey(token) ? CompletableFuture.<Void>completedFuture(null)
                    : releaseIfOrphaned(token)).<Claimed>thenApply(ignored -> {
                        throw e;
                    });
        }).thenCompose(next -> next);
    }

    /**
     * The takeover of a resume claim landed when the claimant may no longer wait for the answer (the
     * claim's deadline is passed or all but: the store stalled). The record names the claimant now,
     * but its resume failed and the client never got the new token: the one it holds is accepted
     * again, as the claimant would have done had it heard the answer on a closed connection. (When
     * the claimant does bind it, the session there refuses the old token while its connection is
     * open and once its client proved the new one; see {@link Session#handOver}.) The claimant ends
     * the record after its grace unless the client comes back (see {@link #resumeElsewhere}).
     */
    private CompletableFuture<Void> keepPreviousSecretIfAbandoned(CallContext call, Claim claim) {
        if (!call.isCancelled() && call.deadline().remainingNanos() > ANSWER_MARGIN_NANOS) {
            return CompletableFuture.completedFuture(null);
        }
        String token = call.token();
        return durable.acceptPreviousSecret(token, claim.getSessionId(), claim.getClaimantNode())
                .handle((accepted, failure) -> {
                    if (failure != null || !accepted) {
                        log.warn("gateway {}: a resume claim of token {} from {} was abandoned before its takeover"
                                + " landed, and its client's resume token cannot be kept ({}): that client logs in"
                                + " afresh", braid.node().id(), token, claim.getClaimantNode(),
                                failure != null ? failure.getMessage() : "the record moved on");
                    }
                    return null;
                });
    }

    /** The token by which calls reach the gateway node {@code nodeId} itself. */
    static String nodeToken(String nodeId) {
        return NODE_TOKEN_PREFIX + nodeId;
    }

    /**
     * Asks {@code claimant} whether {@code sessionId} is still its current, pending session of
     * {@code token}; fails FAILED_PRECONDITION if not. The call is routed by the claimant's node
     * token, whose link this binder first sets to the claimant (idempotent: it names the node it
     * is named after).
     */
    private CompletableFuture<Confirmed> confirm(Node claimant, String token, String sessionId, Deadline deadline) {
        String route = nodeToken(claimant.id());
        Confirm question = Confirm.newBuilder().setToken(token).setSessionId(sessionId).setNode(claimant.id()).build();
        CallOptions options = CallOptions.DEFAULT.withDeadline(deadline).withTimeout(callTimeout);
        return braid.linkCache().relinkAsync(route, claimant).thenCompose(linked ->
                braid.client().invoke(service, CONFIRM_METHOD, route, question, Confirmed.parser(), options));
    }

    /** {@value #CONFIRM_METHOD}: is this session still ours and waiting to be bound? */
    private CompletableFuture<Confirmed> onConfirm(CallContext call, Confirm question) {
        if (!braid.node().id().equals(question.getNode())) {
            return CompletableFuture.failedFuture(new BraidException(Code.FAILED_PRECONDITION, "a confirmation for"
                    + " gateway " + question.getNode() + " reached gateway " + braid.node().id()));
        }
        Session session = sessions.get(question.getToken());
        if (session == null || !session.id().equals(question.getSessionId())
                || session.state() != Session.State.PENDING) {
            return CompletableFuture.failedFuture(new BraidException(Code.FAILED_PRECONDITION, "session "
                    + question.getSessionId() + " of token " + question.getToken() + " is no longer waiting to be"
                    + " bound on gateway " + question.getNode()));
        }
        return CompletableFuture.completedFuture(Confirmed.getDefaultInstance());
    }

    private Node gatewayNode(String nodeId) {
        return braid.discover().nodes(service).stream().filter(node -> node.id().equals(nodeId)).findFirst()
                .orElseThrow(() -> new BraidException(Code.UNAVAILABLE, "gateway " + nodeId + " claims a token but is not"
                        + " among the nodes of service " + service + " in discovery"));
    }

    /** The sessions here in {@code state}. */
    int countIn(Session.State state) {
        int count = 0;
        for (Session session : sessions.values()) {
            if (session.state() == state) {
                count++;
            }
        }
        return count;
    }

    GatewayMeters meters() {
        return meters;
    }

    /** {@value Gateway#PUSH_METHOD}: writes a push to the token's session here. */
    private CompletableFuture<PushAccepted> onPush(CallContext call, PushRequest request) {
        return push(call, request).whenComplete((accepted, failure) -> meters.pushed(failure));
    }

    private CompletableFuture<PushAccepted> push(CallContext call, PushRequest request) {
        String token = call.token();
        Session session = token.isEmpty() ? null : sessions.get(token);
        if (session == null || (session.state() == Session.State.PENDING && !session.isResuming())) {
            if (!token.isEmpty() && session == null) {
                // The push linked the token here, or the player left: do not keep leading it here.
                serializer.run(token, () -> releaseIfOrphaned(token));
            }
            return CompletableFuture.failedFuture(new BraidException(Code.NOT_FOUND, "token '" + token
                    + "' has no " + (session == null ? "" : "bound ") + "session on gateway " + braid.node().id()));
        }
        if (crashed) {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "gateway gone"));
        }
        String pushId = request.getPushId();
        if (pushId.length() > GatewayPush.MAX_PUSH_ID_LENGTH) {
            return CompletableFuture.failedFuture(new BraidException(Code.INVALID_ARGUMENT, "push id longer than "
                    + GatewayPush.MAX_PUSH_ID_LENGTH + " characters"));
        }
        return session.push(pushId.isEmpty() ? null : pushId, request.getPayload())
                .thenApply(seq -> PushAccepted.newBuilder().setPushSeq(seq).setSessionId(session.id()).build());
    }

    /**
     * The connection of {@code session} ended: a bound session detaches for the resume grace
     * (unless the gateway is closing or the grace is zero); otherwise forget it and unbind, unless
     * a newer session took over.
     */
    private CompletableFuture<Void> connectionEnded(Session session) {
        if (crashed) {
            return CompletableFuture.completedFuture(null);
        }
        return tracked(serializer.run(session.token(), () -> {
            if (!closed && !settings.resumeGrace().isZero() && sessions.get(session.token()) == session
                    && session.detach()) {
                try {
                    scheduler.schedule(() -> graceEnded(session), settings.resumeGrace().toMillis(),
                            TimeUnit.MILLISECONDS);
                    return session.unproven() ? acceptPreviousSecret(session) : CompletableFuture.completedFuture(null);
                } catch (RejectedExecutionException closing) {
                    // the gateway is closing: end it now
                }
            }
            return finish(session, "connection closed");
        }));
    }

    /**
     * A resumed connection ended before its client sent a byte after Resumed: maybe Resumed never
     * reached it, and it asks again with the token it had. Before a later step of the token (such a
     * resume) runs, the store accepts that token again (see {@code GatewaySessionStore#takeOver}).
     */
    private CompletableFuture<Void> acceptPreviousSecret(Session session) {
        return durable.acceptPreviousSecret(session.token(), session.id()).handle((accepted, failure) -> {
            if (failure != null) {
                log.warn("gateway {}: cannot keep the previous resume token of session {} of token {} (a retry of"
                        + " its lost resume held elsewhere will be refused): {}", braid.node().id(), session.id(),
                        session.token(), failure.getMessage());
            }
            return null;
        });
    }

    private CompletableFuture<Void> tracked(CompletableFuture<Void> ended) {
        ending.add(ended);
        ended.whenComplete((ok, failure) -> ending.remove(ended));
        return ended;
    }

    /** The client logged out: {@code session} ends at once (CLOSED, unbound), without a resume grace. */
    CompletableFuture<Void> logout(Session session) {
        return tracked(serializer.run(session.token(), () -> finish(session, "logged out")));
    }

    /** The resume grace of {@code session} is over: if it is still DETACHED here, it ends CLOSED. */
    private void graceEnded(Session session) {
        tracked(serializer.run(session.token(), () -> session.state() == Session.State.DETACHED
                ? finish(session, "not resumed within the resume grace of " + settings.resumeGrace().toMillis() + " ms")
                : CompletableFuture.completedFuture(null)));
    }

    /**
     * In a serialized step of the session's token: ends {@code session} CLOSED (one CLOSED event
     * if it was bound or detached), and if it was the token's session here removes it and the
     * link to this gateway (compare-and-delete).
     */
    private CompletableFuture<Void> finish(Session session, String reason) {
        if (crashed) {
            return CompletableFuture.completedFuture(null);
        }
        boolean current = sessions.remove(session.token(), session);
        Session.State before = session.close();
        if (!current) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Boolean> ended = before == Session.State.BOUND || before == Session.State.DETACHED
                ? endRecord(session) : CompletableFuture.completedFuture(false);
        return ended.thenCompose(fire -> {
            if (fire) {
                events.fire(SessionEvent.Type.CLOSED, session, reason);
            }
            return unbind(session);
        });
    }

    /**
     * Compare-and-deletes the session's durable record: true if this gateway ended it (then it fires
     * CLOSED), false if the record names another gateway or session (it was taken over: no event);
     * true too when the store cannot be reached (the session ends here all the same).
     */
    private CompletableFuture<Boolean> endRecord(Session session) {
        return durable.end(session.token(), session.id()).handle((removed, failure) -> {
            if (failure != null) {
                log.warn("gateway {}: cannot end the record of session {} of token {}: {}", braid.node().id(),
                        session.id(), session.token(), failure.getMessage());
                return true;
            }
            return removed;
        });
    }

    private CompletableFuture<Void> unbind(Session session) {
        return braid.linkCache().unlinkAsync(session.token(), braid.node()).handle((removed, failure) -> {
            if (failure != null) {
                log.warn("cannot unbind token {} from gateway {}: {}", session.token(), braid.node().id(),
                        failure.getMessage());
            }
            return null;
        });
    }

    /** Removes the link to this gateway if no session of {@code token} is here. Runs as a serialized step. */
    private CompletableFuture<Void> releaseIfOrphaned(String token) {
        if (sessions.containsKey(token)) {
            return CompletableFuture.completedFuture(null);
        }
        return braid.linkCache().unlinkAsync(token, braid.node()).handle((removed, failure) -> null);
    }

    private void kicked(Session session, String reason) {
        // Its record is the later login's now; it leaves this gateway's index of sessions.
        durable.unindex(session.token(), session.id()).exceptionally(failure -> null);
        Session.State before = session.kick(reason);
        if (before == Session.State.BOUND || before == Session.State.DETACHED) {
            events.fire(SessionEvent.Type.KICKED, session, reason);
        }
    }

    /**
     * Stops taking claims and resumes and ends the DETACHED sessions (CLOSED, unbound); the
     * connections are closed by the front ends, which end each attached session.
     */
    void close() {
        closed = true;
        stopBackgroundWork();
        for (Session session : sessions.values()) {
            if (session.state() == Session.State.DETACHED) {
                tracked(serializer.run(session.token(), () -> finish(session, "gateway closing")));
            }
        }
        // The node token leads only here; leave no link behind that would keep a draining node waiting.
        braid.linkCache().unlinkAsync(nodeToken(braid.node().id()), braid.node()).exceptionally(failure -> false);
    }

    /**
     * Stops as if the process died (for tests of a gateway's death in one JVM): from now on nothing
     * is written to the store, the links or the topic, no session ends and no event fires; claims
     * and pushes are refused UNAVAILABLE. The front ends then drop every connection.
     */
    void crash() {
        crashed = true;
        closed = true;
        stopBackgroundWork();
    }

    /** Stops what {@link #register} started besides the methods: the refresh, the sweep and the player view. */
    private void stopBackgroundWork() {
        recordRefresh.close();
        deadGatewaySweep.close();
        Runnable view = unregisterView;
        if (view != null) {
            view.run();
        }
    }

    /** Waits (up to the timeout) until the ends of the connections closed so far are done: their unbinds. */
    void awaitEnds(long timeout, TimeUnit unit) {
        try {
            CompletableFuture.allOf(ending.toArray(CompletableFuture[]::new)).get(timeout, unit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("gateway {}: sessions still ending after {} {}: {}", braid.node().id(), timeout, unit,
                    e.getMessage());
        }
    }
}
