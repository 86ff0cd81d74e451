package io.braid.discover.internal;

import io.braid.api.DiscoverEvent;
import io.braid.api.Subscription;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Watchers of a Discover. Events are delivered by the caller's thread, one at a time, in order. */
final class Listeners {
    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    private final List<Consumer<DiscoverEvent>> watchers = new CopyOnWriteArrayList<>();

    Subscription add(Consumer<DiscoverEvent> listener) {
        Names.notNull(listener, "listener");
        watchers.add(listener);
        return () -> watchers.remove(listener);
    }

    void publish(List<DiscoverEvent> events) {
        for (DiscoverEvent event : events) {
            for (Consumer<DiscoverEvent> watcher : watchers) {
                try {
                    watcher.accept(event);
                } catch (RuntimeException e) {
                    log.warn("discover watcher failed on {}", event, e);
                }
            }
        }
    }

    void clear() {
        watchers.clear();
    }
}
