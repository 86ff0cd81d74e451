package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The methods a server serves, by name: registered once each (before or after start), looked up
 * by every request. Thread-safe.
 */
public final class MethodRegistry {
    private final ConcurrentHashMap<String, MethodHandler> methods = new ConcurrentHashMap<>();

    /** Adds {@code method}; one already registered under its name throws INVALID_ARGUMENT naming it. */
    public void register(MethodHandler method) {
        if (methods.putIfAbsent(method.name(), method) != null) {
            throw new BraidException(Code.INVALID_ARGUMENT, "method '" + method.name() + "' is already registered");
        }
    }

    /** The handler of {@code name}, or null. */
    MethodHandler get(String name) {
        return methods.get(name);
    }

    /** The names registered so far (a copy). */
    public Set<String> names() {
        return Set.copyOf(methods.keySet());
    }
}
