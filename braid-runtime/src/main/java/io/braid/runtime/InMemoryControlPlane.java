package io.braid.runtime;

import io.braid.discover.InMemoryMembership;
import io.braid.elector.InMemoryElections;
import io.braid.linkcache.InMemoryLinks;
import io.braid.pubsub.InMemoryStreams;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedded control plane of nodes that share one JVM: their membership, elections, links and topics. Nodes
 * built with the same plane see each other; a plane is either passed to each builder
 * ({@link Braid.Builder#inMemory(InMemoryControlPlane)}) or looked up by name
 * ({@link #named(String)}), which is how several {@code Braid} instances of one process find each
 * other without wiring. The named registry is the one piece of process-wide state in braid, and it
 * holds nothing but these planes.
 */
public final class InMemoryControlPlane {
    private static final ConcurrentHashMap<String, InMemoryControlPlane> NAMED = new ConcurrentHashMap<>();

    private final String name;
    private final InMemoryMembership membership = new InMemoryMembership();
    private final InMemoryElections elections = new InMemoryElections();
    private final InMemoryLinks links = new InMemoryLinks();
    private final InMemoryStreams streams = new InMemoryStreams();

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

    public InMemoryMembership membership() {
        return membership;
    }

    public InMemoryElections elections() {
        return elections;
    }

    public InMemoryLinks links() {
        return links;
    }

    public InMemoryStreams streams() {
        return streams;
    }
}
