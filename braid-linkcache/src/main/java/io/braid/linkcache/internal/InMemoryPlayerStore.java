package io.braid.linkcache.internal;

import io.braid.api.Link;
import io.braid.api.PlayerStore;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Player snapshots inside one JVM, fenced by the links of the same in-memory cluster: every node
 * made on the same {@link InMemoryLinks} shares one instance, so a new owner loads what the old one
 * saved. A save checks the token's link and the saved snapshot and writes under the links' own
 * lock, so no change of owner lands between the check and the write. Snapshots are copied in and
 * out: no caller shares an array with the store. Nothing is kept beyond the JVM. The futures it
 * returns are already complete. Thread-safe; holds no resource to close.
 */
public final class InMemoryPlayerStore implements PlayerStore {
    private final InMemoryLinks links;
    /** token to service to its snapshot. Guarded by {@link #links}' lock. */
    private final Map<String, Map<String, Saved>> byToken = new HashMap<>();

    /** A store fenced by {@code links}, the links of the cluster whose nodes share it. */
    public InMemoryPlayerStore(InMemoryLinks links) {
        this.links = Objects.requireNonNull(links, "links");
    }

    @Override
    public CompletableFuture<Optional<Saved>> loadAsync(String service, String token) {
        String bad = PlayerStoreArguments.load(service, token);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        Saved saved;
        synchronized (links) {
            Map<String, Saved> snapshots = byToken.get(token);
            saved = snapshots == null ? null : snapshots.get(service);
        }
        return CompletableFuture.completedFuture(
                Optional.ofNullable(saved).map(s -> new Saved(s.epoch(), s.snapshot().clone())));
    }

    @Override
    public CompletableFuture<Boolean> saveAsync(String service, String token, long epoch, byte[] snapshot) {
        String bad = PlayerStoreArguments.save(service, token, epoch, snapshot);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        Saved mine = new Saved(epoch, snapshot.clone());
        synchronized (links) { // InMemoryLinks changes links under this lock: no move between check and write
            Optional<Link> link = links.target(token, service);
            if (link.isPresent() && link.get().epoch() > epoch) {
                return CompletableFuture.completedFuture(false);
            }
            Map<String, Saved> snapshots = byToken.computeIfAbsent(token, t -> new HashMap<>());
            Saved saved = snapshots.get(service);
            if (saved != null && saved.epoch() > epoch) {
                return CompletableFuture.completedFuture(false);
            }
            snapshots.put(service, mine);
        }
        return CompletableFuture.completedFuture(true);
    }

    @Override
    public CompletableFuture<Boolean> deleteAsync(String service, String token, long epoch) {
        String bad = PlayerStoreArguments.delete(service, token, epoch);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        synchronized (links) {
            Map<String, Saved> snapshots = byToken.get(token);
            Saved saved = snapshots == null ? null : snapshots.get(service);
            if (saved == null || saved.epoch() > epoch) {
                return CompletableFuture.completedFuture(false);
            }
            snapshots.remove(service);
            if (snapshots.isEmpty()) {
                byToken.remove(token);
            }
        }
        return CompletableFuture.completedFuture(true);
    }
}
