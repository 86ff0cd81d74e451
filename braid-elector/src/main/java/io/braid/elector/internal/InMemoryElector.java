package io.braid.elector.internal;

import io.braid.api.Elector;
import io.braid.api.Role;
import io.braid.api.Subscription;
import io.braid.api.internal.ExecutorClose;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Election inside one JVM: among the electors of one service made from the same
 * {@link InMemoryElections}, the longest-waiting one leads; when it closes, the next one leads at
 * once with a higher epoch. Listeners are told on this elector's own thread, in order.
 */
public final class InMemoryElector implements Elector {
    /** How long close waits for the watchers still being told. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final InMemoryElections elections;
    private final String service;
    private final String nodeId;
    private final RoleListeners listeners = new RoleListeners();
    private final ExecutorService events;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Role role = Role.WAIT;
    private volatile long epoch;
    private volatile String leaderId;

    public InMemoryElector(InMemoryElections elections, String service, String nodeId) {
        this.elections = Objects.requireNonNull(elections, "elections");
        if (service == null || service.isBlank()) {
            throw new IllegalArgumentException("service must not be blank");
        }
        if (nodeId == null || nodeId.isBlank()) {
            throw new IllegalArgumentException("nodeId must not be blank");
        }
        this.service = service;
        this.nodeId = nodeId;
        this.events = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("braid-elector-" + service).factory());
        elections.join(this);
    }

    /** Called by the elections under their lock. */
    void update(boolean leading, long newEpoch, String leader) {
        if (closed.get()) {
            return;
        }
        epoch = newEpoch;
        leaderId = leader;
        Role next = leading ? Role.LEADER : Role.FOLLOWER;
        role = next;
        try {
            events.execute(() -> listeners.announce(next));
        } catch (RejectedExecutionException closing) {
            // closing
        }
    }

    @Override
    public Role role() {
        return role;
    }

    @Override
    public long epoch() {
        return epoch;
    }

    @Override
    public Optional<String> leader() {
        return Optional.ofNullable(leaderId);
    }

    @Override
    public String service() {
        return service;
    }

    public String nodeId() {
        return nodeId;
    }

    @Override
    public Subscription onChange(Consumer<Role> listener) {
        return listeners.add(listener);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        role = Role.WAIT;
        elections.leave(this);
        try {
            events.execute(() -> listeners.announce(Role.WAIT));
        } catch (RejectedExecutionException ignored) {
            // already closing
        }
        ExecutorClose.shutdownAndWait(events, CLOSE_WAIT);
        listeners.clear();
    }
}
