package io.braid.linkcache.internal;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One String per owner id, and one completed future of it. Every Redis reply and invalidation
 * decodes the owner's id anew, and the near cache keeps a link per token: a million players on ten
 * nodes would hold a million copies of ten ids (about 48 bytes each). Links made here share one,
 * and every near-cache hit of {@code targetAsync} on an owner answers with its one future (a caller
 * must not complete or obtrude it). Thread-safe; at most {@link #MAX} ids are kept (past that, from
 * garbage written behind braid's back, it starts again: never unbounded).
 */
final class OwnerIds {
    static final int MAX = 65_536;

    /** An owner's id and the completed future a near-cache hit of {@code targetAsync} answers with. */
    record Owner(String id, CompletableFuture<Optional<String>> target) {
    }

    private final ConcurrentHashMap<String, Owner> ids = new ConcurrentHashMap<>();

    /** The held String equal to {@code id}, or {@code id} itself, now held. */
    String canonical(String id) {
        return owner(id).id();
    }

    /** The owner of id {@code id}: allocates nothing when it is held (the near cache's hits). */
    Owner owner(String id) {
        Owner held = ids.get(id);
        if (held != null) {
            return held;
        }
        if (ids.size() >= MAX) {
            ids.clear();
        }
        Owner owner = new Owner(id, CompletableFuture.completedFuture(Optional.of(id)));
        held = ids.putIfAbsent(id, owner);
        return held != null ? held : owner;
    }
}
