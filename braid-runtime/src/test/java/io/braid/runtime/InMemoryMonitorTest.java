package io.braid.runtime;

import java.util.UUID;

/** The monitor on the in-memory control plane: one fresh plane per test. */
class InMemoryMonitorTest extends MonitorContract {
    private final InMemoryControlPlane plane = new InMemoryControlPlane("monitor-" + UUID.randomUUID());

    @Override
    protected Braid.Builder onPlane(Braid.Builder node) {
        return node.inMemory(plane);
    }
}
