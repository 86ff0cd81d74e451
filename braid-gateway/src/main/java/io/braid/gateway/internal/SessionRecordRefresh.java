package io.braid.gateway.internal;

import io.braid.api.internal.GatewaySessionStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sign of life of the sessions here: every {@link SessionLog#refreshEvery refresh period} it
 * refreshes the ttl of the durable records of the BOUND and DETACHED sessions in one batch (a
 * DETACHED session's record too: its own grace timer ends it). A session whose record the store
 * no longer has (Redis restarted empty, or was flushed) is handed to {@code recordLost} with the
 * reason its client is told; the binder then ends it at once (closed, one CLOSED event, unbound:
 * its pushes and resume could no longer be exact). A batch that fails is logged, and the next
 * period tries again.
 *
 * <p>Started by {@link #start}, stopped by {@link #close} (idempotent; a refresh under way
 * finishes). Thread-safe; nothing here blocks: it runs on the gateway's scheduler.
 */
final class SessionRecordRefresh implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionRecordRefresh.class);

    private final SessionLog durable;
    private final ScheduledExecutorService scheduler;
    private final Collection<Session> sessions;
    private final BiConsumer<Session, String> recordLost;
    private volatile boolean closed;
    private volatile ScheduledFuture<?> task;

    /**
     * @param sessions   the sessions here: a live, thread-safe view, read at each refresh
     * @param recordLost ends a session whose record the store lost (the session, the reason)
     */
    SessionRecordRefresh(SessionLog durable, ScheduledExecutorService scheduler, Collection<Session> sessions,
                         BiConsumer<Session, String> recordLost) {
        this.durable = durable;
        this.scheduler = scheduler;
        this.sessions = sessions;
        this.recordLost = recordLost;
    }

    /** Refreshes every refresh period from now on, the first time one period from now. */
    void start() {
        long every = durable.refreshEvery().toMillis();
        task = scheduler.scheduleAtFixedRate(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    private void refresh() {
        if (closed) {
            return;
        }
        List<GatewaySessionStore.Held> held = new ArrayList<>();
        Map<GatewaySessionStore.Held, Session> asked = new HashMap<>();
        for (Session session : sessions) {
            if (session.state() == Session.State.BOUND || session.state() == Session.State.DETACHED) {
                GatewaySessionStore.Held one = new GatewaySessionStore.Held(session.token(), session.id());
                held.add(one);
                asked.put(one, session);
            }
        }
        if (held.isEmpty()) {
            return;
        }
        durable.touch(held).thenAccept(lost -> {
            for (GatewaySessionStore.Held gone : lost) {
                Session session = asked.get(gone);
                if (session != null) {
                    recordLost.accept(session, "the session store lost the record of session " + session.id()
                            + " (did Redis restart without its data, or was it flushed?); log in afresh");
                }
            }
        }).exceptionally(failure -> {
            log.warn("gateway {}: cannot refresh {} session records: {}", durable.gateway(), held.size(),
                    failure.getMessage());
            return null;
        });
    }

    /** Stops refreshing. */
    @Override
    public void close() {
        closed = true;
        ScheduledFuture<?> running = task;
        if (running != null) {
            running.cancel(false);
        }
    }
}
