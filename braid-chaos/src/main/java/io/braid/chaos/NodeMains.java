package io.braid.chaos;

import io.braid.runtime.Braid;
import java.io.IOException;

/** What the two node mains share once their node has started. */
final class NodeMains {
    private NodeMains() {
    }

    static final int START_ATTEMPTS = 5;

    /**
     * Starts the node, again if it fails: on a machine this loaded a fresh JVM's first Redis
     * handshake can outlast the command timeout. Gives up after {@link #START_ATTEMPTS}.
     */
    static Braid start(Braid.Builder settings) {
        for (int attempt = 1; ; attempt++) {
            try {
                return settings.start();
            } catch (RuntimeException e) {
                if (attempt == START_ATTEMPTS) {
                    throw e;
                }
                System.err.println("start attempt " + attempt + " failed (" + e + "); trying again");
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(500));
            }
        }
    }

    /**
     * Reports READY, samples leadership, and serves until the node is closed: when standard input
     * ends (the orchestrator is gone or asks it to stop: the node closes gracefully, leaving the
     * election and deregistering), or after a SIGTERM, which {@link Braid#run()} answers with a
     * drain (a logic node hands its players over first). Then stops sampling and exits 0.
     */
    static void serveUntilStdinCloses(Braid node, EventLog log) throws InterruptedException {
        try (LeadershipSampler sampler = new LeadershipSampler(node.elector(), log)) {
            Thread.ofPlatform().daemon().name("stdin-watch").start(() -> {
                try {
                    while (System.in.read() >= 0) {
                        // the orchestrator never writes; end of input means stop
                    }
                } catch (IOException gone) {
                    // the orchestrator is gone: stop as well
                }
                node.close();
            });
            log.ready();
            node.run();
        }
        System.exit(0);
    }
}
