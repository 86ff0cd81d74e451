package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.DiscoverEvent;
import io.braid.api.Subscription;
import io.braid.rpc.internal.balance.EjectionMarks;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Takes a call (or stream) from the client to a node and keeps the means to: token calls through
 * the {@link TokenRouter}, the rest through the {@link NodePicker}; failed attempts through the
 * {@link RetryRule}, token calls a node refused as not served there through {@link Reroute};
 * connections from the {@link PeerPools}, made by {@link ClientChannels}, whose connect outcomes
 * feed the {@link EjectionMarks}. Follows discovery to drop what a node that left held.
 * Thread-safe; {@link #close} is the client's.
 */
public final class CallRouter {
    private final EjectionMarks marks;
    private final ClientChannels channels;
    private final PeerPools pools;
    private final NodePicker picker;
    private final RetryRule retry;
    private final TokenRouter tokens;
    private final Reroute reroute;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Subscription membership;

    /** @param group the client's event loops: connections, and the timers of the routing deadline */
    public CallRouter(ClientOptions options, EventLoopGroup group) {
        this.marks = new EjectionMarks(options.failuresToEject(), options.ejectionBackoff(),
                options.maxEjectionBackoff(), options.ticker()::read);
        this.channels = new ClientChannels(group, options.tls(), options.maxFrameBytes(), options.connectTimeout(),
                options.pingInterval(), options.keepAliveTimeout(), options.nodeId(), marks,
                new PendingCall.Retrier() {
                    @Override
                    public void retryOrFail(PendingCall<?> call, BraidException reason, boolean written) {
                        retry.retryOrFail(call, reason, written);
                    }

                    @Override
                    public void reroute(PendingCall<?> call, BraidException refusal, String movedTo) {
                        reroute.reroute(call, refusal, movedTo);
                    }
                });
        this.pools = new PeerPools(options.connectionsPerPeer(), channels::connect, options.ejectionBackoff(),
                options.ticker());
        this.picker = new NodePicker(options.discover(), marks, pools);
        this.retry = new RetryRule(options.maxAttempts(), closed::get, picker);
        this.tokens = options.links() == null ? null
                : new TokenRouter(options.links(), options.discover(), picker, pools, group);
        this.reroute = new Reroute(options.discover(), pools, closed::get, group, this::routeAgain);
        this.membership = options.discover().watch(this::onMembership);
    }

    /**
     * Starts the call's first attempt; a call that cannot start fails, UNAVAILABLE once the client is
     * closed (nothing here throws).
     */
    public void route(RoutedCall call) {
        if (closed.get()) {
            call.completeExceptionally(new BraidException(Code.UNAVAILABLE, "client is closed"));
            return;
        }
        try {
            if (tokens != null && !call.token().isEmpty()) {
                tokens.route(call);
            } else {
                picker.attempt(call, null);
            }
        } catch (BraidException e) {
            call.completeExceptionally(e);
        }
    }

    /**
     * Routes a call refused as "not served here" again, as {@link #route} does a new one (through
     * the link cache when there is one); nothing here throws.
     */
    private void routeAgain(PendingCall<?> call) {
        route(call);
    }

    private void onMembership(DiscoverEvent event) {
        pools.onMembership(event);
        if (event.type() == DiscoverEvent.Type.REMOVED) {
            marks.forget(event.node().id());
        }
    }

    /** Number of nodes connections are held to. */
    public int peerCount() {
        return pools.size();
    }

    /**
     * Stops following discovery and retrying, lets calls in flight finish up to {@code grace}, then
     * closes every connection. Once only: returns whether this call closed it.
     */
    public boolean close(Duration grace) {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        membership.close();
        reroute.close();
        pools.retireAll();
        channels.awaitClosed(grace);
        pools.closeAll();
        channels.awaitClosed(Duration.ofSeconds(5));
        return true;
    }


}
