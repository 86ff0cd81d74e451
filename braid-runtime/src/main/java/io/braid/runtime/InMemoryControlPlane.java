package io.braid.runtime;

import io.braid.discover.internal.InMemoryMembership;
import io.braid.elector.internal.InMemoryElections;
import io.braid.linkcache.internal.InMemoryLinks;
import io.braid.linkcache.internal.InMemoryPlayerStore;
import io.braid.pubsub.internal.InMemoryStreams;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedded control plane of nodes that share one JVM: their membership, elections, links,
 * topics and player snapshots. Nodes built with the same plane see each other; a plane is either
 * passed to each builder ({@link Braid.Builder#inMemory(InMemoryControlPlane)}) or looked up by
 * name ({@link #named(String)}), which is how several {@code Braid} instances of one process find
 * each other without wiring. The named registry is the one piece of process-wide state in braid, and it
 * holds nothing but these planes.
 */
public final class InMemoryControlPlane {
    private static final ConcurrentHashMap<String, InMemoryControlPlane> NAMED = new ConcurrentHashMap<>();

    private final String name;
    private final InMemoryMembership membership = new InMemoryMembership();
    private final InMemoryElections elections = new InMemoryElections();
    private final InMemoryLinks links = new InMemoryLinks();
    /** Player snapshots, fenced by {@link #links}. */
    private final InMemoryPlayerStore playerStore = new InMemoryPlayerStore(links);
    private final InMemoryStreams streams = new InMemoryStreams();
    /** braid-gateway's session records, expiring by the JVM's monotonic clock. */
    private final InMemoryGatewaySessions gatewaySessions = new InMemoryGatewaySessions(io.braid.api.Ticker.system());

    public InMemoryControlPlane(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /** The plane of this name in this JVM, made on first use. */
    public static InMemoryControlPlane named(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("in-memory cluster name must not be blank");
        }
        return NAMED.computeIfAbsent(name, InMemoryControlPlane::new);
    }

    public String name() {
        return name;
    }

    // What the plane holds is the in-memory implementations' shared state: for this package's
    // EmbeddedControlPlane only, never part of the public surface.

    InMemoryMembership membership() {
        return membership;
    }

    InMemoryElections elections() {
        return elections;
    }

    InMemoryLinks links() {
        return links;
    }

    InMemoryStreams streams() {
        return streams;
    }

    InMemoryPlayerStore playerStore() {
        return playerStore;
    }

    InMemoryGatewaySessions gatewaySessions() {
        return gatewaySessions;
    }
}
