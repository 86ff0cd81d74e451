package io.braid.discover.internal;

import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.Subscription;
import io.braid.api.internal.ExecutorClose;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Discovery inside one JVM: every instance made from the same {@link InMemoryMembership} sees the
 * nodes the others register, with the same events and ordering as {@code RedisDiscover}. Nodes stay
 * until deregistered, their registering instance closes, or {@link InMemoryMembership#evict}.
 *
 * <p>Watchers are called on this instance's own event thread, one event at a time, in order. A
 * node's record changes only through {@link #register} and {@link #deregister}, applied in the order
 * they are called under the membership's lock; there is no heartbeat that could write an older record.
 * Bad arguments throw {@code BraidException(INVALID_ARGUMENT)} naming the argument ({@link #refresh}
 * fails its future with it).
 */
public final class InMemoryDiscover implements Discover {
    /** How long close waits for the watchers still being told. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final InMemoryMembership membership;
    private final Listeners listeners = new Listeners();
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    /** This member's view: changed on its event thread together with the events it announces. */
    private final ServiceViews views = new ServiceViews();
    private volatile Thread eventThread;
    private final ExecutorService events;
    private final AtomicBoolean closed = new AtomicBoolean();

    public InMemoryDiscover(InMemoryMembership membership) {
        this.membership = Objects.requireNonNull(membership, "membership");
        this.events = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("braid-discover-events").factory());
        membership.join(this);
    }

    @Override
    public List<Node> nodes(String service) {
        return views.nodes(service);
    }

    @Override
    public java.util.concurrent.CompletableFuture<List<Node>> refresh(String service) {
        if (service == null) {
            return java.util.concurrent.CompletableFuture.failedFuture(Names.invalid("service must not be null"));
        }
        return java.util.concurrent.CompletableFuture.completedFuture(nodes(service));
    }

    @Override
    public Set<String> services() {
        return views.services();
    }

    @Override
    public Subscription watch(Consumer<DiscoverEvent> listener) {
        return listeners.add(listener);
    }

    @Override
    public void register(Node node) {
        Names.notNull(node, "node");
        Names.service(node.service());
        Names.nodeId(node.id());
        requireOpen();
        membership.put(node, this);
        registered.add(node.id());
        awaitOwnView();
    }

    @Override
    public void deregister(String nodeId) {
        Names.notNull(nodeId, "nodeId");
        if (membership.remove(nodeId, this)) {
            registered.remove(nodeId);
            awaitOwnView();
        }
    }

    /** Called by the membership, in order, under its lock. */
    void deliver(String service, List<Node> after, List<DiscoverEvent> batch) {
        try {
            events.execute(() -> {
                eventThread = Thread.currentThread();
                views.replace(service, after);
                listeners.publish(batch);
            });
        } catch (RejectedExecutionException closing) {
            // this instance is closing: its watchers are done
        }
    }

    /** Read-your-writes: returns once this member's own view shows its last change. */
    private void awaitOwnView() {
        if (Thread.currentThread() == eventThread) {
            return; // called from a watcher: the change is queued behind the current event
        }
        try {
            events.submit(() -> { }).get(5, TimeUnit.SECONDS);
        } catch (RejectedExecutionException closing) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("discover event thread is stuck", e);
        }
    }

    private void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException("discover is closed");
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (String id : List.copyOf(registered)) {
            deregister(id);
        }
        membership.leave(this);
        ExecutorClose.shutdownAndWait(events, CLOSE_WAIT);
        listeners.clear();
    }
}
