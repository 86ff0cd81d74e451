package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Discover;
import io.braid.api.Link;
import io.braid.api.Node;
import io.braid.api.internal.NotServedHere;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Sends a token call on when a node refused it as "not served here": the answer carried
 * {@link NotServedHere#METADATA_KEY}, so the call did not run there (the player moved, e.g. in a
 * live handoff) and sending it elsewhere cannot run it twice. The caller and the interceptors see
 * one call and only its final outcome.
 *
 * <p>At most {@link #MAX_REROUTES} times per call, never past its deadline, never once the client
 * is closed. If the refusal names a node (other than the one that refused) that discovery lists
 * for the call's service, that node is attempted at once, without asking the link cache; otherwise
 * the call is routed again through the link cache after a pause of 10 ms, 20 ms, then 40 ms (the
 * n-th re-route waits 10 ms × 2<sup>n-1</sup>), cut short by the deadline: a call whose deadline
 * passes in the pause ends DEADLINE_EXCEEDED. When the re-routes are used up, or the client
 * closes, the caller sees the last refusal (UNAVAILABLE and its message). A plain UNAVAILABLE
 * (without that entry) never comes here: the handler may have run. Thread-safe; {@link #reroute}
 * runs on the event loop of the refused attempt.
 */
final class Reroute {
    /** Re-routes after the first attempt: four attempts in all. */
    static final int MAX_REROUTES = 3;
    /** The pause before the first re-route through the link cache; doubled for each later one. */
    static final long FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final Discover discover;
    private final PeerPools pools;
    private final BooleanSupplier closed;
    private final ScheduledExecutorService timers;
    private final Consumer<PendingCall<?>> routeAgain;
    /** Calls waiting out a pause, with the refusal they end with if the client closes meanwhile. */
    private final ConcurrentHashMap<PendingCall<?>, BraidException> paused = new ConcurrentHashMap<>();

    /**
     * @param timers     where the pauses run (the client's event loops)
     * @param routeAgain routes a call as if new (through the link cache); must not throw
     */
    Reroute(Discover discover, PeerPools pools, BooleanSupplier closed, ScheduledExecutorService timers,
            Consumer<PendingCall<?>> routeAgain) {
        this.discover = discover;
        this.pools = pools;
        this.closed = closed;
        this.timers = timers;
        this.routeAgain = routeAgain;
    }

    /**
     * {@code call}'s attempt on the node it last tried was refused with {@code refusal}, whose
     * {@link NotServedHere#METADATA_KEY} entry is {@code movedTo}: sends the call on, or ends it
     * with the refusal.
     */
    void reroute(PendingCall<?> call, BraidException refusal, String movedTo) {
        if (call.isDone()) {
            return;
        }
        int done = call.reroutes();
        if (done >= MAX_REROUTES || closed.getAsBoolean() || call.deadline().isExpired()) {
            call.completeExceptionally(refusal);
            return;
        }
        call.countReroute();
        Node owner = listedOwner(call, NotServedHere.decode(movedTo));
        if (owner != null) {
            call.attempt(owner, pools.connection(owner));
            return;
        }
        long pause = Math.min(FIRST_PAUSE_NANOS << done, Math.max(0, call.deadline().remainingNanos()));
        paused.put(call, refusal);
        if (closed.getAsBoolean() && paused.remove(call) != null) {
            call.completeExceptionally(refusal); // close() may have looked before the put
            return;
        }
        try {
            timers.schedule(() -> resume(call), pause, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shutDown) {
            if (paused.remove(call) != null) {
                call.completeExceptionally(refusal);
            }
        }
    }

    /** The node to go to directly: named, not the one that refused, and listed for the call's service. */
    private Node listedOwner(PendingCall<?> call, Optional<Link> named) {
        if (named.isEmpty() || named.get().nodeId().equals(call.lastTried())) {
            return null;
        }
        String id = named.get().nodeId();
        for (Node node : discover.nodes(call.service())) {
            if (node.id().equals(id)) {
                return node;
            }
        }
        return null;
    }

    /** The pause is over: route the call again, unless it ended, the client closed or the deadline passed. */
    private void resume(PendingCall<?> call) {
        BraidException refusal = paused.remove(call);
        if (refusal == null || call.isDone()) {
            return; // failed by close() meanwhile, or cancelled
        }
        if (closed.getAsBoolean()) {
            call.completeExceptionally(refusal);
        } else if (call.deadline().isExpired()) {
            call.completeExceptionally(new BraidException(Code.DEADLINE_EXCEEDED, "deadline exceeded calling "
                    + call.service + "/" + call.method + " while re-routing token " + call.token
                    + " (last refused: " + refusal.getMessage() + ")"));
        } else {
            routeAgain.accept(call);
        }
    }

    /** The client closed: the calls waiting out a pause end now with their last refusal. */
    void close() {
        List<PendingCall<?>> waiting = new ArrayList<>(paused.keySet());
        for (PendingCall<?> call : waiting) {
            BraidException refusal = paused.remove(call);
            if (refusal != null) {
                call.completeExceptionally(refusal);
            }
        }
    }
}
