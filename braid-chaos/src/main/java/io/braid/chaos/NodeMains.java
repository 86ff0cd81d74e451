package io.braid.chaos;

import io.braid.runtime.Braid;
import java.io.IOException;

/** What the two node mains share once their node has started. */
final class NodeMains {
    private NodeMains() {
    }

    /**
     * Reports READY, samples leadership, and blocks until standard input ends; then closes the
     * node gracefully (it leaves the election and deregisters) and stops sampling.
     */
    static void serveUntilStdinCloses(Braid node, EventLog log) throws IOException, InterruptedException {
        try (LeadershipSampler sampler = new LeadershipSampler(node.elector(), log)) {
            log.ready();
            while (System.in.read() >= 0) {
                // the orchestrator never writes; end of input means stop
            }
            node.close();
        }
        System.exit(0);
    }
}
