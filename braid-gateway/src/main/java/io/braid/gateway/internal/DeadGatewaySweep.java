package io.braid.gateway.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.Subscription;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.gateway.SessionEvent;
import io.braid.runtime.Braid;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the sessions of a dead gateway that nobody resumed. It watches discovery; when another
 * gateway of this service leaves (it died, or closed), it waits until that gateway's session
 * records would have expired (the records' ttl: the resume grace and two refresh periods after its
 * last refresh), then, unless the gateway came back, reads the dead gateway's index of sessions in
 * the store and ends each one that is still the dead gateway's ({@code endOrphan}): one CLOSED
 * event naming the dead gateway, and the token's link to it removed. Every surviving gateway
 * sweeps; the store's index hands each session to exactly one sweeper, so each fires CLOSED once
 * (but for the Redis failure between a change and its index write that the module README names).
 *
 * <p>A read of the index, an end or an unlink that fails UNAVAILABLE (Redis unreachable for a moment; on a
 * Cluster, the master of the index or of a record failing over, or not yet in this node's slot map)
 * is asked again, after 100 ms doubling up to 5 s, for up to {@link #RETRY_FOR} (the store gives
 * a failed end's claim back, so asking again still ends it once). Any other failure, or one that
 * lasts longer, is logged: that session is left to its record's ttl (no CLOSED), or its link to a
 * login or the leader's clean-up of gone nodes.
 *
 * <p>Started by {@link #start}, stopped by {@link #close} (idempotent; a sweep already due, or a
 * retry, then does nothing). Thread-safe; nothing here blocks.
 */
final class DeadGatewaySweep implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeadGatewaySweep.class);
    /** How long a sweep asks again for what failed UNAVAILABLE, from the sweep's start. */
    static final Duration RETRY_FOR = Duration.ofSeconds(60);
    private static final long FIRST_RETRY_MILLIS = 100;
    private static final long MAX_RETRY_MILLIS = 5_000;

    private final Braid braid;
    private final String service;
    private final SessionLog durable;
    private final SessionEvents events;
    private final ScheduledExecutorService scheduler;
    private final Duration resumeGrace;
    private volatile boolean closed;
    private volatile Subscription deaths;

    DeadGatewaySweep(Braid braid, SessionLog durable, SessionEvents events, ScheduledExecutorService scheduler,
                     Duration resumeGrace) {
        this.braid = braid;
        this.service = braid.node().service();
        this.durable = durable;
        this.events = events;
        this.scheduler = scheduler;
        this.resumeGrace = resumeGrace;
    }

    /** Starts watching discovery for gateways that leave. */
    void start() {
        deaths = braid.discover().watch(this::onDiscoverEvent);
    }

    /** A gateway of this service other than this one left discovery: sweep it once its records' ttl is over. */
    private void onDiscoverEvent(DiscoverEvent event) {
        Node gone = event.node();
        if (event.type() != DiscoverEvent.Type.REMOVED || !service.equals(gone.service())
                || gone.id().equals(braid.node().id()) || closed) {
            return;
        }
        try {
            scheduler.schedule(() -> sweep(gone), durable.ttl().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // this gateway is closing: another survivor sweeps
        }
    }

    /** Ends the sessions of the dead gateway {@code gone} that nobody resumed: one CLOSED each, link removed. */
    private void sweep(Node gone) {
        if (closed || braid.discover().nodes(service).stream().anyMatch(node -> node.id().equals(gone.id()))) {
            return; // closing, or it came back
        }
        String reason = "gateway " + gone.id() + " died; not resumed within the resume grace of "
                + resumeGrace.toMillis() + " ms";
        list(gone, reason, System.nanoTime() + RETRY_FOR.toNanos(), FIRST_RETRY_MILLIS);
    }

    /** Reads the index of {@code gone} and ends each session in it; asks again until {@code deadline} while UNAVAILABLE. */
    private void list(Node gone, String reason, long deadline, long retryMillis) {
        if (closed) {
            return;
        }
        durable.heldBy(gone.id()).thenAccept(held -> {
            for (GatewaySessionStore.Held session : held) {
                endOrphan(gone, session, reason, deadline, FIRST_RETRY_MILLIS);
            }
        }).exceptionally(failure -> {
            if (!retryLater(failure, deadline, retryMillis, () -> list(gone, reason, deadline, next(retryMillis)))) {
                log.warn("gateway {}: cannot list the sessions of dead gateway {}: {}", braid.node().id(), gone.id(),
                        failure.getMessage());
            }
            return null;
        });
    }

    /** Ends {@code session} of the dead gateway {@code gone} if the store hands it to this sweeper. */
    private void endOrphan(Node gone, GatewaySessionStore.Held session, String reason, long deadline,
                           long retryMillis) {
        if (closed) {
            return;
        }
        durable.endOrphan(session.token(), session.sessionId(), gone.id()).thenAccept(ended -> {
            if (ended) {
                events.fire(SessionEvent.Type.CLOSED, session.token(), session.sessionId(), gone.id(), reason);
                unlink(gone, session.token(), deadline, FIRST_RETRY_MILLIS);
            }
        }).exceptionally(failure -> {
            if (!retryLater(failure, deadline, retryMillis,
                    () -> endOrphan(gone, session, reason, deadline, next(retryMillis)))) {
                log.warn("gateway {}: cannot end session {} of dead gateway {}: {}", braid.node().id(),
                        session.sessionId(), gone.id(), failure.getMessage());
            }
            return null;
        });
    }

    /** Removes the link of {@code token} if it still names {@code gone}; asks again until {@code deadline} while UNAVAILABLE. */
    private void unlink(Node gone, String token, long deadline, long retryMillis) {
        if (closed) {
            return;
        }
        braid.linkCache().unlinkAsync(token, gone).exceptionally(failure -> {
            if (!retryLater(failure, deadline, retryMillis, () -> unlink(gone, token, deadline, next(retryMillis)))) {
                log.warn("gateway {}: cannot remove the link of token {} to dead gateway {}: {}", braid.node().id(),
                        token, gone.id(), failure.getMessage());
            }
            return false;
        });
    }

    /** Schedules {@code again} in {@code retryMillis} if {@code failure} is UNAVAILABLE and there is time left; says whether it did. */
    private boolean retryLater(Throwable failure, long deadline, long retryMillis, Runnable again) {
        if (closed || BraidException.from(failure).code() != Code.UNAVAILABLE
                || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryMillis) - deadline > 0) {
            return false;
        }
        try {
            scheduler.schedule(again, retryMillis, TimeUnit.MILLISECONDS);
            log.debug("gateway {}: sweep asks again in {} ms: {}", braid.node().id(), retryMillis, failure.getMessage());
            return true;
        } catch (RejectedExecutionException closing) {
            return false; // this gateway is closing
        }
    }

    private static long next(long retryMillis) {
        return Math.min(MAX_RETRY_MILLIS, retryMillis * 2);
    }

    /** Stops watching; sweeps already scheduled do nothing. */
    @Override
    public void close() {
        closed = true;
        Subscription watch = deaths;
        if (watch != null) {
            watch.close();
        }
    }
}
