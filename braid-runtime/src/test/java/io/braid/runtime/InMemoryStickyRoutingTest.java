package io.braid.runtime;

import java.util.UUID;

/** Token-sticky routing on the in-memory control plane: one fresh plane per test. */
class InMemoryStickyRoutingTest extends StickyRoutingContract {
    private final InMemoryControlPlane plane = new InMemoryControlPlane("sticky-" + UUID.randomUUID());

    @Override
    protected Braid.Builder onPlane(Braid.Builder node) {
        return node.inMemory(plane);
    }

    @Override
    protected String planeName() {
        return "in-memory";
    }
}
