package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Discover;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.NodeState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Where a token call chooses its node. The owner comes from the {@link LinkCache} (its near
 * cache, then the store); a token without an owner is linked, first writer wins, to the node the
 * {@link NodePicker} picks by smooth weighted round robin, and a caller that lost the race calls
 * the winner. The owner is called even while DRAINING. An owner this client's discovery view does
 * not list is looked up in the store ({@link Discover#refresh}): still registered there, it is
 * called (and gives UNAVAILABLE if unreachable: never a second owner while the first may live);
 * gone there too, its link is removed (only if it still points at it) and the token gets a new
 * owner.
 *
 * <p>Every step that waits on the control plane is bounded by the call's deadline: a call whose
 * deadline passes before it reaches a node ends DEADLINE_EXCEEDED then, and the step's late answer
 * is ignored. A link cache that refuses the token (too long) makes the call INVALID_ARGUMENT.
 * Thread-safe.
 */
final class TokenRouter {
    private final LinkCache links;
    private final Discover discover;
    private final NodePicker picker;
    private final PeerPools pools;
    private final ScheduledExecutorService timers;

    /** @param timers where the routing deadline's timers run (an event loop group) */
    TokenRouter(LinkCache links, Discover discover, NodePicker picker, PeerPools pools,
                ScheduledExecutorService timers) {
        this.links = links;
        this.discover = discover;
        this.picker = picker;
        this.pools = pools;
        this.timers = timers;
    }

    /**
     * Starts the call on its token's owner, linking one first if the token has none: the owner the
     * link cache holds in memory (no I/O), else one claim for the node the picker picks, which
     * answers the owner either way (one Redis round trip for a cold token, linked or not); with no
     * node to pick (none ACTIVE), a lookup, since a DRAINING owner still serves its players.
     */
    void route(RoutedCall call) {
        Link cached;
        try {
            cached = links.cachedLinkOf(call.token(), call.service());
        } catch (RuntimeException e) {
            call.completeExceptionally(linkCacheFailure(e));
            return;
        }
        if (cached != null) {
            callOwner(call, cached.nodeId(), true);
            return;
        }
        Node candidate;
        try {
            candidate = picker.pick(call);
        } catch (BraidException e) {
            candidate = null;
        }
        if (candidate == null) {
            lookUp(call);
            return;
        }
        Node picked = candidate;
        withinDeadline(call, linkCacheStep(() -> links.lookUpOrLinkAsync(call.token(), picked)))
                .whenComplete((link, failure) -> {
                    if (failure != null) {
                        call.completeExceptionally(linkCacheFailure(failure));
                    } else if (link.nodeId().equals(picked.id())) {
                        attempt(call, picked);
                    } else {
                        // Linked before (or by another caller just now): that owner, and if it is gone
                        // from the store too, its link is removed and the token gets a new one.
                        callOwner(call, link.nodeId(), true);
                    }
                });
    }

    /** The token's owner read from the link cache, linking one if it has none. */
    private void lookUp(RoutedCall call) {
        withinDeadline(call, linkCacheStep(() -> links.targetAsync(call.token(), call.service())))
                .whenComplete((Optional<String> owner, Throwable failure) -> {
                    if (failure != null) {
                        call.completeExceptionally(linkCacheFailure(failure));
                    } else if (owner.isPresent()) {
                        callOwner(call, owner.get(), true);
                    } else {
                        linkNewOwner(call);
                    }
                });
    }

    /**
     * Calls {@code ownerId}. If this view does not list it, the store is asked; if it is gone there
     * too and {@code mayRelink}, its link is removed and the token gets a new owner.
     */
    private void callOwner(RoutedCall call, String ownerId, boolean mayRelink) {
        Node owner = find(discover.nodes(call.service()), ownerId);
        if (owner != null) {
            attempt(call, owner);
            return;
        }
        withinDeadline(call, discover.refresh(call.service())).whenComplete((fresh, failure) -> {
            if (failure != null) {
                call.completeExceptionally(BraidException.from(failure));
                return;
            }
            Node listed = find(fresh, ownerId);
            if (listed != null) {
                attempt(call, listed);
            } else if (!mayRelink) {
                call.completeExceptionally(new BraidException(Code.UNAVAILABLE,
                        "token " + call.token() + " is linked to " + ownerId + ", which is not registered"));
            } else {
                Node gone = new Node(ownerId, call.service(), "0.0.0.0", 1, 0, NodeState.DRAINING, Map.of());
                withinDeadline(call, linkCacheStep(() -> links.unlinkAsync(call.token(), gone)))
                        .whenComplete((removed, error) -> {
                            if (error != null) {
                                call.completeExceptionally(linkCacheFailure(error));
                            } else {
                                linkNewOwner(call);
                            }
                        });
            }
        });
    }

    private void linkNewOwner(RoutedCall call) {
        Node candidate;
        try {
            candidate = picker.pick(call);
        } catch (BraidException e) {
            call.completeExceptionally(e);
            return;
        }
        if (candidate == null) {
            call.completeExceptionally(picker.noNodeFor(call));
            return;
        }
        withinDeadline(call, linkCacheStep(() -> links.linkAsync(call.token(), candidate)))
                .whenComplete((ownerId, failure) -> {
                    if (failure != null) {
                        call.completeExceptionally(linkCacheFailure(failure));
                    } else if (ownerId.equals(candidate.id())) {
                        attempt(call, candidate);
                    } else {
                        callOwner(call, ownerId, false); // another caller linked it first
                    }
                });
    }

    private void attempt(RoutedCall call, Node owner) {
        if (!call.isDone()) {
            call.attempt(owner, pools.connection(owner));
        }
    }

    private static Node find(List<Node> nodes, String id) {
        for (Node node : nodes) {
            if (node.id().equals(id)) {
                return node;
            }
        }
        return null;
    }

    /**
     * Bounds a step by the call's deadline. Steps answered at once (a near-cache hit) arm no timer;
     * once the call was sent, the connection's own deadline timer ends it.
     */
    private <T> CompletableFuture<T> withinDeadline(RoutedCall call, CompletableFuture<T> step) {
        if (step.isDone() || call.isDone()) {
            return step;
        }
        int attemptsBefore = call.attempts(); // more than 0 when a refused call is routed again
        ScheduledFuture<?> timer = timers.schedule(() -> {
            if (call.attempts() == attemptsBefore) {
                call.completeExceptionally(new BraidException(Code.DEADLINE_EXCEEDED, "deadline exceeded finding "
                        + "the node of token " + call.token() + " in service '" + call.service() + "'"));
            }
        }, Math.max(0, call.deadline().remainingNanos()), TimeUnit.NANOSECONDS);
        step.whenComplete((value, failure) -> timer.cancel(false));
        return step;
    }

    /**
     * A step of the link cache as a future, even when the link cache throws: it refuses a token it
     * cannot keep (too long) with an IllegalArgumentException, sometimes before returning a future.
     */
    private static <T> CompletableFuture<T> linkCacheStep(Supplier<CompletableFuture<T>> step) {
        try {
            return step.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A link cache's refusal of the token is the caller's bad argument: INVALID_ARGUMENT. */
    private static BraidException linkCacheFailure(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof IllegalArgumentException) {
            return new BraidException(Code.INVALID_ARGUMENT,
                    cause.getMessage() != null ? cause.getMessage() : "the link cache refused the token");
        }
        return BraidException.from(failure);
    }
}
