package io.braid.chaos;

import io.braid.runtime.Braid;
import java.time.Duration;
import java.util.List;

/**
 * The command line of a node process: {@code redisUri nodeId heartbeatMillis ttlMillis leaseMillis
 * redeliverMillis trimMillis}, where {@code redisUri} is one URI (on one redis-server: the node's
 * own proxy in front of it) or, for a Redis Cluster, its seed URIs joined by commas. The
 * orchestrator writes it, the node mains read it.
 */
record NodeArgs(String redisUri, String nodeId, Duration heartbeat, Duration ttl, Duration lease,
                Duration redeliverAfter, Duration trimInterval) {

    static NodeArgs parse(String[] args) {
        if (args.length != 7) {
            throw new IllegalArgumentException("usage: redisUri nodeId heartbeatMillis ttlMillis leaseMillis "
                    + "redeliverMillis trimMillis; got " + List.of(args));
        }
        return new NodeArgs(args[0], args[1], millis(args[2]), millis(args[3]), millis(args[4]), millis(args[5]),
                millis(args[6]));
    }

    /**
     * Points {@code node} at the control plane (one Redis, or a Cluster through its seeds) with the
     * run's heartbeat, TTL, lease and trim interval.
     */
    Braid.Builder controlPlane(Braid.Builder node) {
        List<String> uris = List.of(redisUri.split(","));
        node.heartbeat(heartbeat, ttl).lease(lease).trimInterval(trimInterval);
        return uris.size() == 1 ? node.redis(redisUri) : node.redisCluster(uris);
    }

    List<String> toArgs() {
        return List.of(redisUri, nodeId, Long.toString(heartbeat.toMillis()), Long.toString(ttl.toMillis()),
                Long.toString(lease.toMillis()), Long.toString(redeliverAfter.toMillis()),
                Long.toString(trimInterval.toMillis()));
    }

    private static Duration millis(String value) {
        return Duration.ofMillis(Long.parseLong(value));
    }
}
