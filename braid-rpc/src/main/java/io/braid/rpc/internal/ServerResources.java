package io.braid.rpc.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import io.netty.channel.EventLoopGroup;

/**
 * The threads a started server runs on: its event loop group and the executor of its blocking
 * handlers, each either lent through the builder (never shut down here) or made and owned here.
 * {@link #release()} shuts down what is owned only.
 */
public final class ServerResources {
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final Executor blockingExecutor;
    private final HandlerThreads ownedExecutor;

    public ServerResources(ServerOptions options) {
        ownsGroup = options.group() == null;
        group = ownsGroup ? Transports.newGroup(options.ioThreads(), "braid-rpc-server") : options.group();
        if (options.blockingExecutor() == null) {
            // Idle handler threads are swept on the lent scheduler, else on an event loop of the group.
            ownedExecutor = new HandlerThreads(HandlerThreads.DEFAULT_IDLE,
                    options.scheduler() != null ? options.scheduler() : group.next());
            blockingExecutor = ownedExecutor;
        } else {
            ownedExecutor = null;
            blockingExecutor = options.blockingExecutor();
        }
    }

    public EventLoopGroup group() {
        return group;
    }

    public Executor blockingExecutor() {
        return blockingExecutor;
    }

    /** Shuts down the owned executor and the owned group (waiting for the group); borrowed ones stay. */
    public void release() {
        if (ownedExecutor != null) {
            ownedExecutor.shutdown();
        }
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
