package io.braid.elector.internal;

import io.braid.api.Role;
import io.braid.api.Subscription;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Role listeners, told only of real changes (edge-triggered). Called by one thread at a time. */
final class RoleListeners {
    private static final Logger log = LoggerFactory.getLogger(RoleListeners.class);

    private final List<Consumer<Role>> listeners = new CopyOnWriteArrayList<>();
    private Role announced = Role.WAIT;

    /**
     * Adds a listener; if a role other than WAIT was already announced, the listener hears it at
     * once, on the calling thread, so a late subscriber never misses that it leads.
     */
    synchronized Subscription add(Consumer<Role> listener) {
        Objects.requireNonNull(listener, "listener");
        Consumer<Role> wrapper = listener::accept; // identity: the same listener twice is two subscriptions
        listeners.add(wrapper);
        if (announced != Role.WAIT) {
            listener.accept(announced);
        }
        return () -> listeners.remove(wrapper);
    }

    /** Announces {@code role} if it differs from the last one announced. */
    synchronized void announce(Role role) {
        if (role == announced) {
            return;
        }
        announced = role;
        for (Consumer<Role> listener : listeners) {
            try {
                listener.accept(role);
            } catch (RuntimeException e) {
                log.warn("role listener failed on {}", role, e);
            }
        }
    }

    void clear() {
        listeners.clear();
    }
}
