package io.braid.linkcache.internal;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One String per owner id. Every Redis reply and invalidation decodes the owner's id anew, and the
 * near cache keeps a link per token: a million players on ten nodes would hold a million copies of
 * ten ids (about 48 bytes each). Links made here share one. Thread-safe; at most {@link #MAX} ids
 * are kept (past that, from garbage written behind braid's back, it starts again: never unbounded).
 */
final class OwnerIds {
    static final int MAX = 65_536;

    private final ConcurrentHashMap<String, String> ids = new ConcurrentHashMap<>();

    /** The held String equal to {@code id}, or {@code id} itself, now held. */
    String canonical(String id) {
        String held = ids.get(id);
        if (held != null) {
            return held;
        }
        if (ids.size() >= MAX) {
            ids.clear();
        }
        held = ids.putIfAbsent(id, id);
        return held != null ? held : id;
    }
}
