package io.braid.redis;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Lends a node's event loops to Lettuce, so Redis I/O runs on the threads that already carry the
 * node's RPC instead of on a pool of its own. The loops are borrowed: releasing or shutting down
 * this provider never stops them; the node that made them closes them.
 *
 * <p>Used only when the group is of the kind Lettuce's transport asks for (both choose native epoll
 * where it loads); {@link #fits} says so before a connector relies on it.
 */
final class BorrowedEventLoops implements EventLoopGroupProvider {
    private final EventLoopGroup group;

    BorrowedEventLoops(EventLoopGroup group) {
        this.group = group;
    }

    /** True when Lettuce, as configured in this JVM, would ask for a group of this kind. */
    static boolean fits(EventLoopGroup group) {
        return io.lettuce.core.resource.Transports.eventLoopGroupClass().isInstance(group);
    }

    @Override
    public <T extends EventLoopGroup> T allocate(Class<T> type) {
        if (!type.isInstance(group)) {
            throw new IllegalStateException("Lettuce asked for a " + type.getSimpleName()
                    + " but the node's event loops are a " + group.getClass().getSimpleName());
        }
        return type.cast(group);
    }

    @Override
    public int threadPoolSize() {
        int loops = 0;
        for (var ignored : group) {
            loops++;
        }
        return loops;
    }

    @Override
    public Future<Boolean> release(EventExecutorGroup eventLoopGroup, long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true); // borrowed: the node closes it
    }

    @Override
    public Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true); // borrowed: the node closes it
    }
}
