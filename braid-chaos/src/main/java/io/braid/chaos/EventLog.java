package io.braid.chaos;

import java.io.PrintStream;
import java.time.Instant;

/**
 * What a node process tells the orchestrator: one line per event on its standard output, flushed
 * before the node acts on it (a served call's line is out before its answer leaves), so a node
 * killed with SIGKILL loses at most events whose effect nobody saw. Times are wall-clock
 * microseconds since the epoch: every process on the machine reads the same clock.
 *
 * <pre>
 * READY node pid                           registered and serving
 * S node token startMicros endMicros       a token call served: its handler ran from start to end
 * L node service epoch fromMicros toMicros this node saw itself LEADER of its service with this epoch
 *                                          over [from, to] (repeated while it lasts; the last wins)
 * H node channel messageId seq atMicros deliveryCount   a message handled (then acknowledged)
 * M node token stream seq startMicros endMicros   a stream message of a token handled: the
 *                                          handler began on it at start and was done at end
 * E node service epoch atMicros            the election epoch this node has seen changed to epoch
 * </pre>
 *
 * Thread-safe: lines never interleave.
 */
final class EventLog {
    static final String READY = "READY";
    static final String SERVED = "S";
    static final String LEADING = "L";
    static final String HANDLED = "H";
    static final String STREAMED = "M";
    static final String EPOCH = "E";

    private final PrintStream out;
    private final String node;
    private final String service;

    EventLog(PrintStream out, String node, String service) {
        this.out = out;
        this.node = node;
        this.service = service;
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    void ready() {
        line(READY + " " + node + " " + ProcessHandle.current().pid());
    }

    void served(String token, long startMicros, long endMicros) {
        line(SERVED + " " + node + " " + token + " " + startMicros + " " + endMicros);
    }

    void leading(long epoch, long fromMicros, long toMicros) {
        line(LEADING + " " + node + " " + service + " " + epoch + " " + fromMicros + " " + toMicros);
    }

    void handled(String channel, String messageId, String seq, long atMicros, int deliveryCount) {
        line(HANDLED + " " + node + " " + channel + " " + messageId + " " + seq + " " + atMicros + " " + deliveryCount);
    }

    void streamed(String token, String stream, String seq, long startMicros, long endMicros) {
        line(STREAMED + " " + node + " " + token + " " + stream + " " + seq + " " + startMicros + " " + endMicros);
    }

    void epoch(long epoch, long atMicros) {
        line(EPOCH + " " + node + " " + service + " " + epoch + " " + atMicros);
    }

    private void line(String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
            if (out.checkError()) {
                // The orchestrator is gone: nobody records what this node would do next.
                Runtime.getRuntime().halt(3);
            }
        }
    }
}
