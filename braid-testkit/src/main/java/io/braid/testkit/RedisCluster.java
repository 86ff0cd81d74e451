package io.braid.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A Redis Cluster of real {@code redis-server} processes on loopback, for tests of the Cluster
 * code paths (MOVED redirects, hash tags, failover).
 *
 * <pre>{@code
 * try (RedisCluster cluster = RedisCluster.start()) {      // 3 masters, no replicas
 *     String seed = cluster.uri();                          // redis://127.0.0.1:PORT of node 0
 *     RedisServer master = cluster.nodes().get(0);          // kill(), pause(), probe() as usual
 * }
 * }</pre>
 *
 * <p>{@link #start(int, int)} returns only when the cluster is whole: every node reports
 * {@code cluster_state:ok}, every node's {@code CLUSTER NODES} shows the same slot map and the same
 * master/replica pairs, with all links connected, and every replica's link to its master is up.
 * Slots are split evenly in contiguous ranges, master 0 owning the lowest. Each node has its own
 * client port and Cluster bus port (set with {@code cluster-port}, not port + 10000) and a node
 * timeout of 3 seconds, so a killed or paused master is failed over within seconds.
 *
 * <p>{@link #nodes()} lists the masters first, then the replicas: replica {@code j} of master
 * {@code m} is at index {@code masters + m * replicasPerMaster + j}. The order records the roles at
 * start; a failover changes roles, not the list. Restarting a node ({@link RedisServer#restart()})
 * keeps its {@code nodes.conf}, so it rejoins as the same node.
 *
 * <p>Not thread-safe for concurrent {@link #close()}; the creator owns the cluster and closes it.
 */
public final class RedisCluster implements AutoCloseable {
    /** The number of hash slots in a Redis Cluster. */
    static final int SLOTS = 16_384;
    /** {@code cluster-node-timeout} of every node. */
    static final Duration NODE_TIMEOUT = Duration.ofSeconds(3);
    /** How long {@link #start(int, int)} waits for the nodes to agree, after they all run. */
    static final Duration FORM_TIMEOUT = Duration.ofSeconds(30);

    private static final String HOST = LoopbackPorts.HOST;
    private static final int MAX_MASTERS = 100;
    private static final int MAX_REPLICAS_PER_MASTER = 10;

    private final List<RedisServer> nodes;
    private boolean closed;

    private RedisCluster(List<RedisServer> nodes) {
        this.nodes = nodes;
    }

    /**
     * Starts 3 masters without replicas and returns once the cluster is whole.
     *
     * @throws IllegalStateException as {@link #start(int, int)}
     */
    public static RedisCluster start() {
        return start(3, 0);
    }

    /**
     * Starts {@code masters} masters with {@code replicasPerMaster} replicas each and returns once
     * the cluster is whole (see the class description). On failure every node started so far is
     * killed.
     *
     * @throws IllegalArgumentException unless 1 ≤ masters ≤ 100 and 0 ≤ replicasPerMaster ≤ 10
     * @throws IllegalStateException if {@code redis-server} is not on the PATH (the message says how
     *         to install it), a node does not start, or the nodes do not agree within 30 seconds
     *         (the message shows what each node sees)
     */
    public static RedisCluster start(int masters, int replicasPerMaster) {
        if (masters < 1 || masters > MAX_MASTERS) {
            throw new IllegalArgumentException("masters must be between 1 and " + MAX_MASTERS + ", was " + masters);
        }
        if (replicasPerMaster < 0 || replicasPerMaster > MAX_REPLICAS_PER_MASTER) {
            throw new IllegalArgumentException("replicasPerMaster must be between 0 and " + MAX_REPLICAS_PER_MASTER
                    + ", was " + replicasPerMaster);
        }
        List<RedisServer> started = new ArrayList<>();
        try {
            for (int i = 0; i < masters * (1 + replicasPerMaster); i++) {
                started.add(RedisServer.builder().clusterNode(NODE_TIMEOUT).start());
            }
            ClusterFormation.form(started, masters, replicasPerMaster, FORM_TIMEOUT);
            return new RedisCluster(List.copyOf(started));
        } catch (RuntimeException e) {
            closeAll(started, e);
            throw e;
        }
    }

    /** Every node, masters first (see the class description for the order). Immutable. */
    public List<RedisServer> nodes() {
        return nodes;
    }

    /** {@link RedisServer#uri()} of every node, in the order of {@link #nodes()}. Immutable. */
    /** Deletes every key on every master (replicas follow): a clean slate between tests. */
    public void flushAll() {
        for (RedisServer node : nodes()) {
            try (RedisProbe probe = node.probe()) {
                if ("master".equals(roleOf(probe))) {
                    probe.command("FLUSHALL");
                }
            }
        }
    }

    private static String roleOf(RedisProbe probe) {
        Object role = probe.command("ROLE");
        return role instanceof List<?> parts && !parts.isEmpty() ? String.valueOf(parts.get(0)) : "";
    }

    public List<String> uris() {
        return nodes.stream().map(RedisServer::uri).toList();
    }

    /** A seed URI for a Cluster client: that of node 0, {@code redis://127.0.0.1:PORT}. */
    public String uri() {
        return nodes.get(0).uri();
    }

    /** Kills every node and deletes their directories. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAll(nodes, null);
    }

    @Override
    public String toString() {
        return "RedisCluster" + nodes.stream().map(node -> HOST + ":" + node.port()).toList();
    }

    /** Closes in reverse start order; failures are added to {@code failure} or thrown at the end. */
    private static void closeAll(List<RedisServer> servers, RuntimeException failure) {
        RuntimeException first = failure;
        for (int i = servers.size() - 1; i >= 0; i--) {
            try {
                Objects.requireNonNull(servers.get(i)).close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (failure == null && first != null) {
            throw first;
        }
    }
}
