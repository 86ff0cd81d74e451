package io.braid.rpc.internal;

import io.braid.api.internal.TokenGate;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The periodic half of the token gate: every period it ends the open token streams the gate no
 * longer admits, which no message would otherwise reach. All of them when the node's gate is
 * closed; else, when the gate's revocations moved since the last sweep, those of the tokens it
 * refuses. Runs on one scheduler and never overlaps itself, so its memory of the last revocation
 * count needs no lock.
 */
public final class FenceSweep implements Runnable {
    private final TokenGate gate;
    private final ServerConnections connections;
    /** The gate's revocations at the last sweep (only the sweep reads and writes it). */
    private long lastRevocations;
    private volatile ScheduledFuture<?> scheduled;

    private FenceSweep(TokenGate gate, ServerConnections connections) {
        this.gate = gate;
        this.connections = connections;
    }

    /** Starts sweeping every {@code period} on {@code scheduler} (borrowed: never shut down here). */
    public static FenceSweep start(TokenGate gate, ServerConnections connections, Duration period,
                                   ScheduledExecutorService scheduler) {
        FenceSweep sweep = new FenceSweep(gate, connections);
        long nanos = period.toNanos();
        sweep.scheduled = scheduler.scheduleAtFixedRate(sweep, nanos, nanos, TimeUnit.NANOSECONDS);
        return sweep;
    }

    @Override
    public void run() {
        boolean open;
        long revocations = lastRevocations;
        try {
            open = gate.isOpen();
            revocations = gate.revocations();
        } catch (RuntimeException e) {
            open = false; // as in the per-call check: a gate that fails is closed
        }
        if (!open || revocations != lastRevocations) {
            lastRevocations = revocations;
            connections.fenceTokenStreams(!open);
        }
    }

    /** Stops sweeping; idempotent. */
    public void stop() {
        ScheduledFuture<?> current = scheduled;
        if (current != null) {
            current.cancel(false);
        }
    }
}
