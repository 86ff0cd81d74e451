package io.braid.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A Sentinel-managed Redis of real processes on loopback: a master, a replica, and three Sentinels
 * watching them under the name {@value #MASTER_NAME}, for tests of the Sentinel code paths
 * (finding the master through the Sentinels, following it across a failover).
 *
 * <pre>{@code
 * try (RedisSentinel sentinel = RedisSentinel.start()) {
 *     String uri = sentinel.uri();                 // redis-sentinel://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3#braid
 *     RedisServer promoted = sentinel.failover();  // SENTINEL FAILOVER: the replica becomes the master
 *     RedisServer next = sentinel.killMaster();    // SIGKILL; the Sentinels promote the other node
 * }
 * }</pre>
 *
 * <p>{@link #start()} returns only when the deployment is whole ({@link #awaitHealthy()}): every
 * Sentinel names the same master, knows the two other Sentinels and sees the replica with its link
 * up. The Sentinels flag a master they cannot reach as down after {@link #downAfter()} (default
 * 1 s, {@code down-after-milliseconds}), agree on it with a quorum of 2, and one of them fails it
 * over ({@code failover-timeout} {@value #FAILOVER_TIMEOUT_MILLIS} ms), so a killed master is
 * replaced within a few seconds.
 *
 * <p>{@link #dataNodes()} lists the two data nodes in start order (the first master, then its
 * replica); a failover changes their roles, not the list. {@link #master()} and {@link #replica()}
 * ask the Sentinels, so they follow failovers. The data nodes persist nothing and run with
 * {@code repl-diskless-sync-delay 0}, so a replica syncs at once. A node restarted with
 * {@link RedisServer#restart()} comes back empty; the Sentinels turn a restarted old master into a
 * replica of the new one, which takes them a few seconds ({@link #awaitHealthy()} waits).
 *
 * <p>The Sentinels run with shorter periods than Redis' defaults, set with {@code SENTINEL DEBUG}
 * when they start, as {@code down-after-milliseconds} is: {@code INFO} to each instance every
 * {@value #INFO_PERIOD_MILLIS} ms (10 s by default) and a hello every {@value #PUBLISH_PERIOD_MILLIS}
 * ms (2 s). A Sentinel waits four hello periods after an old master reports itself a master before it
 * makes it a replica, and learns of the replicas' roles by {@code INFO}: about 3 s here, about 20 s
 * with the defaults. Failure detection and failover are timed as before ({@link #downAfter()}).
 *
 * <p>Replication is asynchronous, and Sentinel does not wait for the replica to catch up before it
 * promotes it (unlike {@code CLUSTER FAILOVER}): writes the replica had not received when it was
 * promoted are lost, by {@link #failover()} as well as by {@link #killMaster()}; use {@code WAIT}
 * in the test when that matters. Until the Sentinels reconfigure it, an old master that still runs
 * accepts writes that its demotion will throw away.
 *
 * <p>Failover and {@link #close()} are synchronized; the creator owns the deployment and closes it.
 */
public final class RedisSentinel implements AutoCloseable {
    /** The name under which the Sentinels monitor the master; the fragment of {@link #uri()}. */
    public static final String MASTER_NAME = "braid";
    /** {@code down-after-milliseconds} unless {@link #start(Duration)} says otherwise. */
    static final Duration DOWN_AFTER = Duration.ofSeconds(1);
    /** {@code SENTINEL DEBUG info-period}: how often a Sentinel sends INFO to a master and its replicas. */
    static final long INFO_PERIOD_MILLIS = 1_000;
    /** {@code SENTINEL DEBUG publish-period}: how often a Sentinel says hello (a demotion waits four of these). */
    static final long PUBLISH_PERIOD_MILLIS = 500;
    /** {@code failover-timeout}: also how long the Sentinels wait before retrying a failed failover (twice this). */
    static final long FAILOVER_TIMEOUT_MILLIS = 3_000;
    /** How long {@link #start} waits for the Sentinels to know each other and the replica. */
    static final Duration FORM_TIMEOUT = Duration.ofSeconds(30);
    /** How long {@link #failover()} waits for every Sentinel to announce the new master. */
    static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(20);
    /** How long {@link #awaitHealthy()} waits. */
    static final Duration HEAL_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration MIN_DOWN_AFTER = Duration.ofMillis(100);
    private static final Duration MAX_DOWN_AFTER = Duration.ofSeconds(60);
    private static final int SENTINELS = 3;
    private static final int QUORUM = 2;
    private static final String HOST = LoopbackPorts.HOST;

    private final List<RedisServer> dataNodes;
    private final List<RedisServer> sentinels;
    private final Duration downAfter;
    private volatile boolean closed;

    private RedisSentinel(List<RedisServer> dataNodes, List<RedisServer> sentinels, Duration downAfter) {
        this.dataNodes = dataNodes;
        this.sentinels = sentinels;
        this.downAfter = downAfter;
    }

    /**
     * Starts a master, its replica and three Sentinels with {@code down-after-milliseconds} 1000,
     * and returns once the deployment is whole.
     *
     * @throws IllegalStateException as {@link #start(Duration)}
     */
    public static RedisSentinel start() {
        return start(DOWN_AFTER);
    }

    /**
     * As {@link #start()} with {@code down-after-milliseconds} set to {@code downAfter}: how long a
     * Sentinel waits for an answer from an instance before it flags it as down. On failure every
     * process started so far is killed.
     *
     * @throws IllegalArgumentException unless 100 ms ≤ downAfter ≤ 60 s
     * @throws IllegalStateException if {@code redis-server} is not on the PATH (the message says how
     *         to install it), a process does not start, or the Sentinels do not know each other and
     *         the replica within 30 seconds (the message shows what each process sees)
     */
    public static RedisSentinel start(Duration downAfter) {
        Objects.requireNonNull(downAfter, "downAfter");
        if (downAfter.compareTo(MIN_DOWN_AFTER) < 0 || downAfter.compareTo(MAX_DOWN_AFTER) > 0) {
            throw new IllegalArgumentException("downAfter must be between " + MIN_DOWN_AFTER.toMillis() + " ms and "
                    + MAX_DOWN_AFTER.toSeconds() + " s, was " + downAfter.toMillis() + " ms");
        }
        List<RedisServer> started = new ArrayList<>();
        try {
            RedisServer master = RedisServer.builder().extraArgs("--repl-diskless-sync-delay", "0").start();
            started.add(master);
            RedisServer replica = RedisServer.builder().extraArgs("--repl-diskless-sync-delay", "0",
                    "--replicaof", HOST + " " + master.port()).start();
            started.add(replica);
            List<String> config = List.of(
                    "sentinel monitor " + MASTER_NAME + " " + HOST + " " + master.port() + " " + QUORUM,
                    "sentinel down-after-milliseconds " + MASTER_NAME + " " + downAfter.toMillis(),
                    "sentinel failover-timeout " + MASTER_NAME + " " + FAILOVER_TIMEOUT_MILLIS,
                    "sentinel parallel-syncs " + MASTER_NAME + " 1");
            List<RedisServer> sentinels = new ArrayList<>();
            for (int i = 0; i < SENTINELS; i++) {
                RedisServer sentinel = RedisServer.builder().sentinel(config).start();
                started.add(sentinel);
                sentinels.add(sentinel);
                try (RedisProbe probe = sentinel.probe()) {
                    probe.command("SENTINEL", "DEBUG", "info-period", Long.toString(INFO_PERIOD_MILLIS),
                            "publish-period", Long.toString(PUBLISH_PERIOD_MILLIS));
                }
            }
            RedisSentinel deployment = new RedisSentinel(List.of(master, replica), List.copyOf(sentinels), downAfter);
            deployment.awaitUntil(FORM_TIMEOUT, "the Sentinels to know each other and the replica",
                    deployment::isHealthy);
            return deployment;
        } catch (RuntimeException e) {
            RedisServer.closeAll(started, e);
            throw e;
        }
    }

    /**
     * What a Sentinel-aware client connects to: {@code redis-sentinel://127.0.0.1:P1,127.0.0.1:P2,
     * 127.0.0.1:P3#braid}, every Sentinel and the master's name (Lettuce's form).
     */
    public String uri() {
        StringBuilder uri = new StringBuilder("redis-sentinel://");
        for (int i = 0; i < sentinels.size(); i++) {
            uri.append(i == 0 ? "" : ",").append(HOST).append(':').append(sentinels.get(i).port());
        }
        return uri.append('#').append(MASTER_NAME).toString();
    }

    /** The master's name, {@value #MASTER_NAME}. */
    public String masterName() {
        return MASTER_NAME;
    }

    /** {@code down-after-milliseconds} of every Sentinel. */
    public Duration downAfter() {
        return downAfter;
    }

    /** The two data nodes in start order: the first master, then its replica. Immutable. */
    public List<RedisServer> dataNodes() {
        return dataNodes;
    }

    /** The three Sentinels. Immutable. */
    public List<RedisServer> sentinels() {
        return sentinels;
    }

    /**
     * The data node the Sentinels announce as the master now (the first running Sentinel is asked:
     * {@code SENTINEL GET-MASTER-ADDR-BY-NAME}).
     *
     * @throws IllegalStateException if no Sentinel runs or the one asked names no node of this deployment
     */
    public RedisServer master() {
        ensureOpen();
        RedisServer asked = sentinels.stream().filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no Sentinel of " + this + " is running"));
        int port = announcedPort(asked).orElseThrow(
                () -> new IllegalStateException(asked + " announces no master for " + MASTER_NAME));
        return byPort(port).orElseThrow(() -> new IllegalStateException(asked + " announces port " + port
                + ", no data node of " + this));
    }

    /** The data node that is not {@link #master()}: the replica, or the old master once it rejoins as one. */
    public RedisServer replica() {
        RedisServer master = master();
        return dataNodes.stream().filter(node -> node != master).findFirst().orElseThrow();
    }

    /** Deletes every key on the master (the replica follows): a clean slate between tests. */
    public void flushAll() {
        try (RedisProbe probe = master().probe()) {
            probe.command("FLUSHALL");
        }
    }

    /**
     * Fails the master over to the replica the way an operator does: {@code SENTINEL FAILOVER}
     * (retried while a Sentinel answers that no replica is good enough yet, or that a failover is
     * in progress), then returns the new master once every running Sentinel announces it and it
     * answers {@code ROLE} as a master. Sentinel does not wait for the replica to catch up: writes
     * it had not received are lost, and the old master keeps accepting writes until the Sentinels
     * reconfigure it as a replica (seconds later; {@link #awaitHealthy()} waits for that).
     *
     * @throws IllegalStateException if the replica is not running or does not replicate the master,
     *         or no Sentinel announces it within 20 seconds (the message shows what each process sees)
     */
    public synchronized RedisServer failover() {
        ensureOpen();
        RedisServer master = master();
        RedisServer replica = requireReplicaOf(master);
        String[] lastRefusal = new String[1];
        awaitUntil(FAILOVER_TIMEOUT, () -> "a Sentinel to accept SENTINEL FAILOVER (last refusal: " + lastRefusal[0] + ")",
                () -> {
                    for (RedisServer sentinel : sentinels) {
                        if (!sentinel.isRunning()) {
                            continue;
                        }
                        try (RedisProbe probe = sentinel.probe()) {
                            probe.command("SENTINEL", "FAILOVER", MASTER_NAME);
                            return true;
                        } catch (RedisProbe.ErrorReply e) {
                            lastRefusal[0] = e.getMessage(); // NOGOODSLAVE, INPROG: the Sentinels are not ready yet
                        }
                    }
                    return false;
                });
        awaitAnnounced(replica, FAILOVER_TIMEOUT);
        return replica;
    }

    /**
     * Kills the master with SIGKILL, as a crashed host would lose it, and returns the replica the
     * Sentinels promoted in its place, once every running Sentinel announces it and it answers
     * {@code ROLE} as a master: the Sentinels flag the master as down after {@link #downAfter()},
     * agree (quorum 2), elect one of them to lead the failover, and that one promotes the replica.
     * Writes the replica had not received are lost. The killed node stays down; after
     * {@link RedisServer#restart()} the Sentinels turn it into a replica of the new master (then
     * {@link #awaitHealthy()}).
     *
     * @throws IllegalStateException if the replica is not running or does not replicate the master,
     *         or it was not promoted within four down-after periods plus 20 seconds
     */
    public synchronized RedisServer killMaster() {
        ensureOpen();
        RedisServer master = master();
        RedisServer replica = requireReplicaOf(master);
        master.kill();
        awaitAnnounced(replica, downAfter.multipliedBy(4).plus(FAILOVER_TIMEOUT));
        return replica;
    }

    /**
     * Waits until the deployment is whole: every running Sentinel announces the same running master,
     * which answers {@code ROLE} as a master and is not flagged down or failing over; each knows the
     * other running Sentinels; every other running data node replicates that master with its link up,
     * and every running Sentinel sees it so. Up to 30 seconds.
     *
     * @throws IllegalStateException if it is not whole in time (the message shows what each process sees)
     */
    public void awaitHealthy() {
        ensureOpen();
        awaitUntil(HEAL_TIMEOUT, "the Sentinel deployment to be healthy", this::isHealthy);
    }

    /** Kills every process (Sentinels first, so none reacts to the others going) and deletes their directories. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RedisServer> all = new ArrayList<>(dataNodes);
        all.addAll(sentinels);
        RedisServer.closeAll(all, null);
    }

    @Override
    public String toString() {
        return "RedisSentinel[data " + dataNodes.stream().map(node -> HOST + ":" + node.port()).toList()
                + ", sentinels " + sentinels.stream().map(node -> HOST + ":" + node.port()).toList() + "]";
    }

    // ---- what the processes see ----------------------------------------------------------------

    private RedisServer requireReplicaOf(RedisServer master) {
        RedisServer replica = dataNodes.stream().filter(node -> node != master).findFirst().orElseThrow();
        if (!master.isRunning() || !replica.isRunning()) {
            throw new IllegalStateException("both data nodes must run to fail over; " + describe());
        }
        if (!isReplicaOf(replica, master)) {
            throw new IllegalStateException(replica + " does not replicate " + master + " with its link up; "
                    + "call awaitHealthy() first." + describe());
        }
        return replica;
    }

    private void awaitAnnounced(RedisServer promoted, Duration timeout) {
        awaitUntil(timeout, "every Sentinel to announce " + promoted + " as the master", () -> {
            if (!"master".equals(role(promoted).orElse(""))) {
                return false;
            }
            for (RedisServer sentinel : sentinels) {
                if (sentinel.isRunning() && announcedPort(sentinel).orElse(-1) != promoted.port()) {
                    return false;
                }
            }
            return true;
        });
    }

    private boolean isHealthy() {
        List<RedisServer> running = sentinels.stream().filter(RedisServer::isRunning).toList();
        if (running.isEmpty()) {
            return false;
        }
        Integer agreed = null;
        for (RedisServer sentinel : running) {
            try (RedisProbe probe = sentinel.probe()) {
                Map<String, String> master = fields(probe.command("SENTINEL", "MASTER", MASTER_NAME));
                int port = Integer.parseInt(master.get("port"));
                if (!"master".equals(master.get("flags"))
                        || Integer.parseInt(master.get("num-other-sentinels")) < running.size() - 1
                        || (agreed != null && agreed != port)) {
                    return false;
                }
                agreed = port;
                for (RedisServer node : dataNodes) {
                    if (node.port() != port && node.isRunning() && !seesReplica(probe, node, port)) {
                        return false;
                    }
                }
            }
        }
        Optional<RedisServer> master = byPort(agreed);
        if (master.isEmpty() || !master.get().isRunning() || !"master".equals(role(master.get()).orElse(""))) {
            return false;
        }
        for (RedisServer node : dataNodes) {
            if (node != master.get() && node.isRunning() && !isReplicaOf(node, master.get())) {
                return false;
            }
        }
        return true;
    }

    /** Whether the Sentinel behind {@code probe} lists {@code node} as a healthy replica of the master on {@code masterPort}. */
    private static boolean seesReplica(RedisProbe probe, RedisServer node, int masterPort) {
        for (Object entry : (List<?>) probe.command("SENTINEL", "REPLICAS", MASTER_NAME)) {
            Map<String, String> replica = fields(entry);
            if (Integer.parseInt(replica.get("port")) == node.port()) {
                return "slave".equals(replica.get("flags")) && "ok".equals(replica.get("master-link-status"))
                        && Integer.toString(masterPort).equals(replica.get("master-port"));
            }
        }
        return false;
    }

    private static boolean isReplicaOf(RedisServer node, RedisServer master) {
        try (RedisProbe probe = node.probe()) {
            String replication = probe.info("replication");
            return "slave".equals(InfoFields.get(replication, "role"))
                    && Integer.toString(master.port()).equals(InfoFields.get(replication, "master_port"))
                    && "up".equals(InfoFields.get(replication, "master_link_status"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Optional<String> role(RedisServer node) {
        try (RedisProbe probe = node.probe()) {
            return probe.command("ROLE") instanceof List<?> parts && !parts.isEmpty()
                    ? Optional.of(String.valueOf(parts.get(0))) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<Integer> announcedPort(RedisServer sentinel) {
        try (RedisProbe probe = sentinel.probe()) {
            return probe.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME) instanceof List<?> address
                    && address.size() == 2 ? Optional.of(Integer.parseInt(String.valueOf(address.get(1)))) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** A Sentinel's flat [name, value, name, value, ...] reply as a map. */
    private static Map<String, String> fields(Object reply) {
        Map<String, String> fields = new HashMap<>();
        if (reply instanceof List<?> flat) {
            for (int i = 0; i + 1 < flat.size(); i += 2) {
                fields.put(String.valueOf(flat.get(i)), String.valueOf(flat.get(i + 1)));
            }
        }
        return fields;
    }

    private void awaitUntil(Duration timeout, String what, BooleanSupplier condition) {
        awaitUntil(timeout, () -> what, condition);
    }

    private void awaitUntil(Duration timeout, Supplier<String> what, BooleanSupplier condition) {
        Await.until(timeout, () -> what.get() + "; what the processes see:" + describe(), condition);
    }

    private String describe() {
        StringBuilder text = new StringBuilder();
        for (RedisServer node : dataNodes) {
            text.append(System.lineSeparator()).append("--- data node ").append(node)
                    .append(node.isRunning() ? "" : " (not running)").append(" ---");
            if (node.isRunning()) {
                try (RedisProbe probe = node.probe()) {
                    String replication = probe.info("replication");
                    text.append(System.lineSeparator()).append("role:").append(InfoFields.get(replication, "role"))
                            .append(" master_port:").append(InfoFields.get(replication, "master_port"))
                            .append(" master_link_status:").append(InfoFields.get(replication, "master_link_status"))
                            .append(" connected_slaves:").append(InfoFields.get(replication, "connected_slaves"));
                } catch (RuntimeException e) {
                    text.append(System.lineSeparator()).append("cannot ask it: ").append(e.getMessage());
                }
            }
        }
        for (RedisServer sentinel : sentinels) {
            text.append(System.lineSeparator()).append("--- sentinel ").append(sentinel)
                    .append(sentinel.isRunning() ? "" : " (not running)").append(" ---");
            if (sentinel.isRunning()) {
                try (RedisProbe probe = sentinel.probe()) {
                    Map<String, String> master = fields(probe.command("SENTINEL", "MASTER", MASTER_NAME));
                    text.append(System.lineSeparator()).append("master port ").append(master.get("port"))
                            .append(" flags ").append(master.get("flags"))
                            .append(" other sentinels ").append(master.get("num-other-sentinels"))
                            .append(" failover-state ").append(master.get("failover-state"));
                    for (Object entry : (List<?>) probe.command("SENTINEL", "REPLICAS", MASTER_NAME)) {
                        Map<String, String> replica = fields(entry);
                        text.append(System.lineSeparator()).append("replica port ").append(replica.get("port"))
                                .append(" flags ").append(replica.get("flags"))
                                .append(" link ").append(replica.get("master-link-status"))
                                .append(" of port ").append(replica.get("master-port"));
                    }
                } catch (RuntimeException e) {
                    text.append(System.lineSeparator()).append("cannot ask it: ").append(e.getMessage());
                }
            }
        }
        return text.toString();
    }

    private Optional<RedisServer> byPort(Integer port) {
        return port == null ? Optional.empty()
                : dataNodes.stream().filter(node -> node.port() == port).findFirst();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }
}
