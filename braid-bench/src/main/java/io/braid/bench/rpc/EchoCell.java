package io.braid.bench.rpc;

import java.util.Locale;

/**
 * The conditions of an echo cell: connections x calls in flight per connection, payload size.
 * The closed loop keeps {@link #inFlight()} calls outstanding, spread round robin over the
 * connections.
 */
public record EchoCell(int connections, int perConnection, int payloadBytes) {
    public EchoCell {
        if (connections < 1 || perConnection < 1 || payloadBytes < 0) {
            throw new IllegalArgumentException("bad cell " + connections + "x" + perConnection + " " + payloadBytes);
        }
    }

    public int inFlight() {
        return connections * perConnection;
    }

    /** {@code 1x64 64 B}, {@code 1x64 1 KiB}: the name in the report. */
    public String name() {
        String size = payloadBytes >= 1024 && payloadBytes % 1024 == 0 ? payloadBytes / 1024 + " KiB"
                : payloadBytes + " B";
        return String.format(Locale.ROOT, "%dx%d %s", connections, perConnection, size);
    }
}
