package io.braid.runtime;

import io.braid.api.BraidException;
import io.braid.api.LinkCache;
import io.braid.api.Ticker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's drain (see {@link Braid#drain()}): announce DRAINING, hand the node's active players
 * over to other nodes of its service when it has {@link Players} ({@link PlayerHome#drainStarted}),
 * then count the node's links on the node's scheduler every {@value #CHECK_EVERY_MILLIS} ms,
 * without blocking it, until none is left (or, with players, none is active here any more), the
 * drain timeout has passed on the node's ticker, or the node closed; then close the node (on a
 * virtual thread: a close waits for calls in flight). A count the store cannot give (Redis down) is
 * not "no players left": the drain goes on. Thread-safe; one drain per node, asked any number of
 * times.
 */
final class Drain {
    private static final Logger log = LoggerFactory.getLogger(Braid.class); // the node's lifecycle, under one name
    static final long CHECK_EVERY_MILLIS = 100;
    private static final Duration COUNT_TIMEOUT = Duration.ofSeconds(1);

    private final String nodeId;
    private final LinkCache links;
    /** The node's players, handed over to other nodes in the drain; null without players. */
    private final PlayerHome<?> players;
    private final Duration timeout;
    private final ScheduledExecutorService scheduler;
    private final Ticker ticker;
    private final BooleanSupplier closed;
    private final Runnable closeNode;
    /** Told when the drain starts and when it ends. */
    private final ClusterTimeline timeline;
    private final java.util.concurrent.atomic.AtomicBoolean toldDone = new java.util.concurrent.atomic.AtomicBoolean();
    /** The drain under way, or null; a drain that could not start is cleared again. */
    private final AtomicReference<CompletableFuture<Void>> drained = new AtomicReference<>();

    Drain(String nodeId, LinkCache links, PlayerHome<?> players, Duration timeout, ScheduledExecutorService scheduler,
          Ticker ticker, BooleanSupplier closed, Runnable closeNode, ClusterTimeline timeline) {
        this.nodeId = nodeId;
        this.links = links;
        this.players = players;
        this.timeout = timeout;
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.closed = closed;
        this.closeNode = closeNode;
        this.timeline = timeline;
    }

    /**
     * Starts the drain, announcing DRAINING with {@code announce}, or returns the one under way. If
     * the announcement throws, the future fails with it as a {@link BraidException} and a later
     * call may try again. Never throws.
     */
    CompletableFuture<Void> start(Runnable announce) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = drained.compareAndExchange(null, mine);
        if (running != null) {
            return running;
        }
        if (closed.getAsBoolean()) {
            mine.complete(null);
            return mine;
        }
        try {
            announce.run();
        } catch (RuntimeException e) {
            BraidException failure = BraidException.from(e);
            log.warn("braid node {}: cannot announce DRAINING ({}); it stays ACTIVE", nodeId, failure.getMessage());
            drained.compareAndSet(mine, null); // a later drain() may try again
            mine.completeExceptionally(failure);
            return mine;
        }
        log.info("braid node {} draining (up to {})", nodeId, timeout);
        long deadline = ticker.read() + timeout.toNanos();
        timeline.drainStarted(timeout);
        if (players != null) {
            players.drainStarted();
        }
        schedule(() -> check(deadline, false), 0);
        return mine;
    }

    /** The node has closed: the drain, if one runs, is over. */
    void nodeClosed() {
        CompletableFuture<Void> drain = drained.get();
        if (drain != null) {
            drain.complete(null);
        }
    }

    private void check(long deadline, boolean countFailing) {
        if (closed.getAsBoolean() || ticker.read() - deadline >= 0) {
            closeNode(closed.getAsBoolean() ? "the node closed" : "the drain timeout passed");
            return;
        }
        if (players != null && players.drained()) {
            // Every player was handed over: the links still naming this node are of players not
            // active here (no state on it); they are removed so their callers link them anew.
            players.releaseRemainingLinks().thenAccept(removed -> {
                log.info("braid node {}: its players were handed over ({} in all; {} links of players not active "
                        + "here removed)", nodeId, players.handedOver(), removed);
                closeNode("every player handed over (" + players.handedOver() + " in all)");
            });
            return;
        }
        CompletableFuture<Long> count;
        try {
            count = links.linkCountAsync(nodeId);
        } catch (RuntimeException e) {
            log.warn("braid node {}: drain failed; closing now", nodeId, e);
            closeNode("failed (" + e.getMessage() + ")");
            return;
        }
        count.orTimeout(COUNT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((left, failure) -> {
                    if (failure == null && left == 0 && (players == null || !players.handingOver())) {
                        // (A hand-over under way has moved its link already, and must still tell its target.)
                        closeNode("no links left");
                        return;
                    }
                    if (failure != null && !countFailing) {
                        log.warn("braid node {}: cannot count its links ({}); still draining", nodeId,
                                BraidException.from(failure).getMessage());
                    } else if (failure == null && countFailing) {
                        log.info("braid node {}: counting its links again ({} left)", nodeId, left);
                    }
                    schedule(() -> check(deadline, failure != null), CHECK_EVERY_MILLIS);
                });
    }

    private void schedule(Runnable check, long delayMillis) {
        try {
            scheduler.schedule(check, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            closeNode("the node's scheduler stopped"); // the scheduler is shut down: the node is closing, or its owner stopped it
        }
    }

    private void closeNode(String how) {
        if (toldDone.compareAndSet(false, true)) {
            timeline.drainDone(how);
        }
        // the future completes once the node is closed (here or on the thread already closing it)
        Thread.ofVirtual().name("braid-close-" + nodeId).start(closeNode);
    }
}
