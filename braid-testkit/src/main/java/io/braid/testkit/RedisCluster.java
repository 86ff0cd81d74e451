package io.braid.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

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
 * <p>Failover, as a test needs it: {@link #failover(RedisServer)} hands a master's slots to its
 * replica the polite way ({@code CLUSTER FAILOVER} sent to the replica: no acknowledged write is
 * lost); {@link #killMaster(RedisServer)} kills a master with SIGKILL and lets the cluster promote
 * its replica after {@code cluster-node-timeout} (writes not yet replicated are lost). Both return
 * the new master once the cluster is healthy again ({@link #awaitHealthy()}). {@link #masterOf(String)}
 * tells which node serves a key now. {@link #start(int, int, Duration)} sets a shorter node timeout
 * for tests that kill masters.
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
    /** How long {@link #failover} waits for the replica to take over and the cluster to agree. */
    static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(20);
    /** How long {@link #awaitHealthy()} waits. */
    static final Duration HEAL_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration MIN_NODE_TIMEOUT = Duration.ofMillis(100);
    private static final Duration MAX_NODE_TIMEOUT = Duration.ofSeconds(60);

    private static final String HOST = LoopbackPorts.HOST;
    private static final int MAX_MASTERS = 100;
    private static final int MAX_REPLICAS_PER_MASTER = 10;

    private final List<RedisServer> nodes;
    private final Duration nodeTimeout;
    private boolean closed;

    private RedisCluster(List<RedisServer> nodes, Duration nodeTimeout) {
        this.nodes = nodes;
        this.nodeTimeout = nodeTimeout;
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
        return start(masters, replicasPerMaster, NODE_TIMEOUT);
    }

    /**
     * As {@link #start(int, int)} with {@code cluster-node-timeout} set to {@code nodeTimeout}: how
     * long a master may be unreachable before the others flag it as failed and its replica takes
     * over. One second makes {@link #killMaster} take about two to three seconds; below that a
     * loaded machine may see failovers nobody asked for.
     *
     * @throws IllegalArgumentException as {@link #start(int, int)}, or unless 100 ms ≤ nodeTimeout ≤ 60 s
     * @throws IllegalStateException as {@link #start(int, int)}
     */
    public static RedisCluster start(int masters, int replicasPerMaster, Duration nodeTimeout) {
        Objects.requireNonNull(nodeTimeout, "nodeTimeout");
        if (nodeTimeout.compareTo(MIN_NODE_TIMEOUT) < 0 || nodeTimeout.compareTo(MAX_NODE_TIMEOUT) > 0) {
            throw new IllegalArgumentException("nodeTimeout must be between " + MIN_NODE_TIMEOUT.toMillis() + " ms and "
                    + MAX_NODE_TIMEOUT.toSeconds() + " s, was " + nodeTimeout.toMillis() + " ms");
        }
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
                started.add(RedisServer.builder().clusterNode(nodeTimeout).start());
            }
            ClusterFormation.form(started, masters, replicasPerMaster, FORM_TIMEOUT);
            return new RedisCluster(List.copyOf(started), nodeTimeout);
        } catch (RuntimeException e) {
            RedisServer.closeAll(started, e);
            throw e;
        }
    }

    /** Every node, masters first (see the class description for the order). Immutable. */
    public List<RedisServer> nodes() {
        return nodes;
    }

    /** Deletes every key on every running master (replicas follow): a clean slate between tests. */
    public void flushAll() {
        for (RedisServer node : nodes()) {
            if (!node.isRunning()) {
                continue;
            }
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

    /** {@link RedisServer#uri()} of every node, in the order of {@link #nodes()}. Immutable. */
    public List<String> uris() {
        return nodes.stream().map(RedisServer::uri).toList();
    }

    /** A seed URI for a Cluster client: that of node 0, {@code redis://127.0.0.1:PORT}. */
    public String uri() {
        return nodes.get(0).uri();
    }

    /** The {@code cluster-node-timeout} of every node. */
    public Duration nodeTimeout() {
        return nodeTimeout;
    }

    /**
     * The node that serves {@code key}'s hash slot now, as a running node sees it (roles change with
     * failovers; this asks the cluster, not the start order).
     *
     * @throws IllegalStateException if no running node knows a master for the slot
     */
    public RedisServer masterOf(String key) {
        Objects.requireNonNull(key, "key");
        RedisServer asked = firstRunning();
        try (RedisProbe probe = asked.probe()) {
            int slot = Math.toIntExact((Long) probe.command("CLUSTER", "KEYSLOT", key));
            ClusterTopology topology = ClusterTopology.parse((String) probe.command("CLUSTER", "NODES"));
            return topology.masterOf(slot).flatMap(entry -> byPort(entry.port()))
                    .orElseThrow(() -> new IllegalStateException("no master serves slot " + slot + " (key " + key
                            + ") in the view of " + asked + ":" + System.lineSeparator() + topology));
        }
    }

    /** The nodes that are masters serving slots now, as a running node sees it, in the order of {@link #nodes()}. */
    public List<RedisServer> masters() {
        try (RedisProbe probe = firstRunning().probe()) {
            ClusterTopology topology = ClusterTopology.parse((String) probe.command("CLUSTER", "NODES"));
            return nodes.stream().filter(node -> topology.byPort(node.port())
                    .filter(entry -> entry.isMaster() && entry.slotCount() > 0).isPresent()).toList();
        }
    }

    /** The nodes that replicate {@code master} now, as {@code master} itself sees it. */
    public List<RedisServer> replicasOf(RedisServer master) {
        requireMember(master);
        try (RedisProbe probe = master.probe()) {
            ClusterTopology topology = ClusterTopology.parse((String) probe.command("CLUSTER", "NODES"));
            String id = topology.entries().stream().filter(ClusterTopology.Entry::isMyself).findFirst()
                    .orElseThrow().id();
            return topology.replicasOf(id).stream().map(entry -> byPort(entry.port()))
                    .flatMap(Optional::stream).toList();
        }
    }

    /**
     * Fails {@code master} over to one of its replicas the way an operator does for maintenance:
     * {@code CLUSTER FAILOVER} sent to the replica, which waits until it has every write of the
     * master, then takes its slots; the old master becomes its replica. Returns the new master once
     * every running node shows it serving those slots and the cluster is healthy
     * ({@link #awaitHealthy()}). Nothing acknowledged is lost. Clients see {@code MOVED} replies
     * until they refresh their slot map.
     *
     * @throws IllegalArgumentException if {@code master} is not a node of this cluster
     * @throws IllegalStateException if it is not a master serving slots, has no running replica,
     *         or the replica has not taken over within 20 seconds (the message shows what each
     *         node sees)
     */
    public synchronized RedisServer failover(RedisServer master) {
        ensureOpen();
        Handover handover = handover(master);
        try (RedisProbe probe = handover.replica().probe()) {
            probe.command("CLUSTER", "FAILOVER");
        }
        awaitTakeover(handover, FAILOVER_TIMEOUT);
        return handover.replica();
    }

    /**
     * Kills {@code master} with SIGKILL, as a crashed host would lose it, and returns the replica
     * the cluster promoted in its place, once the cluster is healthy again: the other masters flag
     * the dead one as failed after {@link #nodeTimeout()}, and its replica wins the election that
     * follows. Writes the replica had not received are lost. The killed node stays down; after
     * {@link RedisServer#restart()} it rejoins as a replica of the new master (then
     * {@link #awaitHealthy()}).
     *
     * @throws IllegalArgumentException if {@code master} is not a node of this cluster
     * @throws IllegalStateException if it is not a master serving slots, has no running replica, or
     *         no replica took over within four node timeouts plus 20 seconds
     */
    public synchronized RedisServer killMaster(RedisServer master) {
        ensureOpen();
        Handover handover = handover(master);
        master.kill();
        // Detection (node timeout, then a majority of masters agreeing) and the replica's election.
        Duration bound = nodeTimeout.multipliedBy(4).plus(FAILOVER_TIMEOUT);
        // The promoted replica is the one with the most data; with several replicas it may be any of them.
        Set<String> candidates = new TreeSet<>(handover.replicaIds());
        String[] winner = new String[1];
        awaitUntil(bound, "a replica of the killed master " + master + " to serve its slots", () -> {
            Optional<String> promoted = servingReplica(handover, candidates);
            promoted.ifPresent(id -> winner[0] = id);
            return promoted.isPresent() && isHealthy();
        });
        return byId(handover.topology(), winner[0]);
    }

    /**
     * Waits until the cluster is healthy: every running node reports {@code cluster_state:ok}, all
     * of them agree on which running node serves which slots and which replicates which, every slot
     * is served by a running master, no running node is flagged failing, and every running
     * replica's link to its master is up. Nodes that are not running are left out (they must serve
     * no slots). Up to 30 seconds.
     *
     * @throws IllegalStateException if the cluster is not healthy in time (the message shows what
     *         each running node sees)
     */
    public void awaitHealthy() {
        ensureOpen();
        awaitUntil(HEAL_TIMEOUT, "the cluster to be healthy", this::isHealthy);
    }

    /** Kills every node and deletes their directories. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RedisServer.closeAll(nodes, null);
    }

    @Override
    public String toString() {
        return "RedisCluster" + nodes.stream().map(node -> HOST + ":" + node.port()).toList();
    }

    // ---- failover ------------------------------------------------------------------------------

    /** A master about to hand its slots over, and the replicas that may take them. */
    private record Handover(RedisServer master, String masterId, ClusterTopology.Entry before,
                            List<String> replicaIds, RedisServer replica, ClusterTopology topology) {
    }

    private Handover handover(RedisServer master) {
        requireMember(master);
        if (!master.isRunning()) {
            throw new IllegalStateException(master + " is not running");
        }
        ClusterTopology topology;
        try (RedisProbe probe = master.probe()) {
            topology = ClusterTopology.parse((String) probe.command("CLUSTER", "NODES"));
        }
        ClusterTopology.Entry me = topology.entries().stream().filter(ClusterTopology.Entry::isMyself)
                .findFirst().orElseThrow();
        if (!me.isMaster() || me.slotCount() == 0) {
            throw new IllegalStateException(master + " is not a master serving slots; masters now: " + masters());
        }
        List<ClusterTopology.Entry> replicas = topology.replicasOf(me.id());
        RedisServer replica = replicas.stream().filter(ClusterTopology.Entry::isSettled)
                .map(entry -> byPort(entry.port())).flatMap(Optional::stream)
                .filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException(master + " has no running replica to take over"));
        return new Handover(master, me.id(), me, replicas.stream().map(ClusterTopology.Entry::id).toList(),
                replica, topology);
    }

    private void awaitTakeover(Handover handover, Duration timeout) {
        String replicaId = handover.topology().byPort(handover.replica().port()).orElseThrow().id();
        awaitUntil(timeout, "replica " + handover.replica() + " to take over the slots of " + handover.master(),
                () -> servingReplica(handover, Set.of(replicaId)).isPresent() && isHealthy());
    }

    /** Which of {@code candidates} serves every slot the old master served, in the view of every running node. */
    private Optional<String> servingReplica(Handover handover, Set<String> candidates) {
        String found = null;
        for (RedisServer node : nodes) {
            if (!node.isRunning()) {
                continue;
            }
            ClusterTopology view;
            try (RedisProbe probe = node.probe()) {
                view = ClusterTopology.parse((String) probe.command("CLUSTER", "NODES"));
            }
            Optional<ClusterTopology.Entry> owner = view.masterOf(handover.before().slots().get(0)[0]);
            if (owner.isEmpty() || !candidates.contains(owner.get().id())
                    || owner.get().slotCount() < handover.before().slotCount()
                    || (found != null && !found.equals(owner.get().id()))) {
                return Optional.empty();
            }
            found = owner.get().id();
        }
        return Optional.ofNullable(found);
    }

    private boolean isHealthy() {
        Set<Integer> running = new TreeSet<>();
        nodes.stream().filter(RedisServer::isRunning).forEach(node -> running.add(node.port()));
        String agreed = null;
        for (RedisServer node : nodes) {
            if (!running.contains(node.port())) {
                continue;
            }
            try (RedisProbe probe = node.probe()) {
                if (!"ok".equals(InfoFields.get((String) probe.command("CLUSTER", "INFO"), "cluster_state"))) {
                    return false;
                }
                ClusterTopology view = ClusterTopology.parse((String) probe.command("CLUSTER", "NODES"));
                Set<String> lines = new TreeSet<>();
                int served = 0;
                for (ClusterTopology.Entry entry : view.entries()) {
                    if (!running.contains(entry.port())) {
                        if (entry.isMaster() && entry.slotCount() > 0) {
                            return false; // a dead node still serves slots
                        }
                        continue;
                    }
                    if (!entry.isSettled() || (!entry.isMyself() && !entry.connected())) {
                        return false;
                    }
                    if (entry.isMaster()) {
                        served += entry.slotCount();
                        lines.add(entry.id() + " master " + entry.slots().stream()
                                .map(range -> range[0] + "-" + range[1]).toList());
                    } else {
                        lines.add(entry.id() + " replica-of " + entry.masterId());
                        if (entry.isMyself()
                                && !"up".equals(InfoFields.get(probe.info("replication"), "master_link_status"))) {
                            return false;
                        }
                    }
                }
                String text = String.join("\n", lines);
                if (served != SLOTS || (agreed != null && !agreed.equals(text))) {
                    return false;
                }
                agreed = text;
            }
        }
        return agreed != null;
    }

    private void awaitUntil(Duration timeout, String what, java.util.function.BooleanSupplier condition) {
        Await.until(timeout, () -> what + "; what the running nodes see:" + describe(), condition);
    }

    private String describe() {
        StringBuilder text = new StringBuilder();
        for (RedisServer node : nodes) {
            text.append(System.lineSeparator()).append("--- ").append(node)
                    .append(node.isRunning() ? "" : " (not running)").append(" ---");
            if (!node.isRunning()) {
                continue;
            }
            try (RedisProbe probe = node.probe()) {
                text.append(System.lineSeparator()).append("cluster_state:")
                        .append(InfoFields.get((String) probe.command("CLUSTER", "INFO"), "cluster_state"))
                        .append(System.lineSeparator()).append(((String) probe.command("CLUSTER", "NODES")).trim());
            } catch (RuntimeException e) {
                text.append(System.lineSeparator()).append("cannot ask it: ").append(e.getMessage());
            }
        }
        return text.toString();
    }

    private RedisServer firstRunning() {
        ensureOpen();
        return nodes.stream().filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no node of " + this + " is running"));
    }

    private Optional<RedisServer> byPort(int port) {
        return nodes.stream().filter(node -> node.port() == port).findFirst();
    }

    private RedisServer byId(ClusterTopology topology, String id) {
        return topology.byId(id).flatMap(entry -> byPort(entry.port())).orElseThrow();
    }

    private void requireMember(RedisServer node) {
        Objects.requireNonNull(node, "node");
        if (!nodes.contains(node)) {
            throw new IllegalArgumentException(node + " is not a node of " + this);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }
}
