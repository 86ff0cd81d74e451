package io.braid.chaos;

import io.braid.runtime.Braid;
import java.time.Duration;
import java.util.List;

/**
 * The command line of a node process: {@code redisUri nodeId heartbeatMillis ttlMillis leaseMillis
 * redeliverMillis}, where {@code redisUri} is one URI or, for a Redis Cluster, its seed URIs joined
 * by commas. The orchestrator writes it, the node mains read it.
 */
record NodeArgs(String redisUri, String nodeId, Duration heartbeat, Duration ttl, Duration lease,
                Duration redeliverAfter) {

    static NodeArgs parse(String[] args) {
        if (args.length != 6) {
            throw new IllegalArgumentException(
                    "usage: redisUri nodeId heartbeatMillis ttlMillis leaseMillis redeliverMillis; got " + List.of(args));
        }
        return new NodeArgs(args[0], args[1], millis(args[2]), millis(args[3]), millis(args[4]), millis(args[5]));
    }

    /** Points {@code node} at the control plane: one Redis, or a Cluster through its seeds. */
    Braid.Builder controlPlane(Braid.Builder node) {
        List<String> uris = List.of(redisUri.split(","));
        return uris.size() == 1 ? node.redis(redisUri) : node.redisCluster(uris);
    }

    List<String> toArgs() {
        return List.of(redisUri, nodeId, Long.toString(heartbeat.toMillis()), Long.toString(ttl.toMillis()),
                Long.toString(lease.toMillis()), Long.toString(redeliverAfter.toMillis()));
    }

    private static Duration millis(String value) {
        return Duration.ofMillis(Long.parseLong(value));
    }
}
