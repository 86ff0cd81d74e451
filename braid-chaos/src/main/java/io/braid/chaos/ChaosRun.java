package io.braid.chaos;

import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.runtime.Braid;
import io.braid.testkit.Await;
import io.braid.testkit.RedisCluster;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import io.braid.testkit.TcpProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chaos orchestrator: starts a redis-server (AOF, fsync on every write), three logic and two
 * gateway JVMs, bots and a publisher in this JVM, applies a seeded fault schedule, stops
 * everything, and checks the merged history ({@link Checkers}). {@link #main} runs it from the
 * command line and writes the report; the JUnit test runs the short schedule.
 */
public final class ChaosRun {
    private static final Logger log = LoggerFactory.getLogger(ChaosRun.class);
    private static final String LEADER_KEY = "braid:{elect:" + ChaosNames.LOGIC + "}:leader";

    /** What a run is made of; {@link #defaults} are the ones the suite is measured with. */
    public record Settings(long seed, boolean longSchedule, Duration longDuration, int bots, int streamers,
                           Duration heartbeat, Duration ttl, Duration lease, Duration redeliverAfter,
                           Duration trimInterval, Duration callDeadline, Duration deadlineSlack,
                           Duration recoveryBound, Path workDir, boolean cluster) {
        public static Settings defaults(long seed, boolean longSchedule, Duration longDuration, Path workDir) {
            return new Settings(seed, longSchedule, longDuration, 16, 4, Duration.ofMillis(500), Duration.ofSeconds(2),
                    Duration.ofMillis(1_500), Duration.ofSeconds(3), Duration.ofMillis(100), Duration.ofSeconds(2),
                    Duration.ofMillis(500), Duration.ofSeconds(30), workDir, false);
        }

        /** The same run on a Redis Cluster of three masters with one replica each, instead of one redis-server. */
        public Settings withCluster(boolean onCluster) {
            return new Settings(seed, longSchedule, longDuration, bots, streamers, heartbeat, ttl, lease,
                    redeliverAfter, trimInterval, callDeadline, deadlineSlack, recoveryBound, workDir, onCluster);
        }
    }

    /** The Cluster's node timeout: how long a dead master goes unnoticed before its replica is promoted. */
    static final Duration CLUSTER_NODE_TIMEOUT = Duration.ofSeconds(1);

    private final Settings settings;
    private final History history = new History();
    private final List<NodeProcess> live = new ArrayList<>();
    private final List<NodeProcess> gone = new ArrayList<>();
    /** On one redis-server: each node's own proxy to it, which BLACKHOLE cuts. */
    private final Map<NodeProcess, TcpProxy> proxies = new java.util.HashMap<>();
    /** REMOVED events the bots' node saw: node id and wall-clock micros. */
    private final Queue<Map.Entry<String, Long>> removals = new ConcurrentLinkedQueue<>();
    private int logicCount;
    private int gatewayCount;
    private RedisServer redis;
    private RedisCluster cluster;
    private String controlUri;
    private Braid control;

    private ChaosRun(Settings settings) {
        this.settings = settings;
    }

    /** Runs the whole schedule and returns its report; throws only when the cluster could not even start. */
    public static ChaosReport run(Settings settings) throws Exception {
        return new ChaosRun(settings).execute();
    }

    private ChaosReport execute() throws Exception {
        Files.createDirectories(settings.workDir());
        try (var old = Files.list(settings.workDir())) {
            for (Path file : old.toList()) {
                Files.deleteIfExists(file);
            }
        }
        Schedule.Timing timing = new Schedule.Timing(settings.ttl(), settings.lease());
        List<FaultKind> kinds = settings.cluster() ? FaultKind.CLUSTER : FaultKind.SINGLE_REDIS;
        Schedule schedule = settings.longSchedule() ? Schedule.longSchedule(settings.seed(), timing, kinds)
                : Schedule.shortSchedule(settings.seed(), timing, kinds);
        long runStart = EventLog.nowMicros();
        if (settings.cluster()) {
            cluster = RedisCluster.start(3, 1, CLUSTER_NODE_TIMEOUT);
            controlUri = String.join(",", cluster.uris());
        } else {
            redis = RedisServer.builder().appendOnly(true).extraArgs("--appendfsync", "always").start();
            controlUri = redis.uri();
        }
        StallProbe stalls = new StallProbe(history);
        try {
            Braid.Builder botsNode = Braid.builder().service(ChaosNames.BOTS).nodeId("bots").ioThreads(1);
            control = (settings.cluster() ? botsNode.redisCluster(cluster.uris()) : botsNode.redis(controlUri))
                    .heartbeat(settings.heartbeat(), settings.ttl()).lease(settings.lease()).start();
            control.discover().watch(event -> {
                if (event.type() == DiscoverEvent.Type.REMOVED) {
                    removals.add(Map.entry(event.node().id(), EventLog.nowMicros()));
                }
            });
            for (int i = 0; i < 3; i++) {
                startNode(ChaosNames.LOGIC);
            }
            for (int i = 0; i < 2; i++) {
                startNode(ChaosNames.GATEWAY);
            }
            awaitFullMembership(Duration.ofSeconds(180));
            Await.until(Duration.ofSeconds(30), "a logic leader", () -> currentLeader().isPresent());
            List<String> tokens;
            try (Bots bots = new Bots(control, history, settings.bots(), settings.streamers(), settings.callDeadline());
                 Publisher publisher = new Publisher(control.topic(ChaosNames.TOPIC), history)) {
                tokens = bots.tokens();
                bots.markRecoveryFrom(EventLog.nowMicros());
                Await.until(Duration.ofSeconds(60), "every bot served once before the first fault",
                        () -> bots.allOkSinceMark() != 0);
                history.warmedUpAt = EventLog.nowMicros();
                long endAt = System.nanoTime() + settings.longDuration().toNanos();
                int index = 0;
                for (Schedule.Fault fault = schedule.next(); fault != null; fault = schedule.next()) {
                    if (schedule.isLong() && System.nanoTime() - endAt >= 0) {
                        break;
                    }
                    pause(fault.gap());
                    history.faults.add(apply(++index, fault, bots));
                }
                pause(Duration.ofSeconds(2));
            }
            awaitMessagesHandled(Duration.ofSeconds(30));
            long runEnd = EventLog.nowMicros();
            stopAll();
            stalls.close();
            HistoryFiles.write(history, settings.workDir());
            List<Checkers.Violation> violations = Checkers.check(history, settings, tokens);
            return new ChaosReport(settings, history, violations, runStart, runEnd);
        } finally {
            stalls.close();
            stopAll();
            if (control != null) {
                control.close();
            }
            if (redis != null) {
                redis.close();
            }
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    private NodeProcess startNode(String service) {
        boolean logic = service.equals(ChaosNames.LOGIC);
        return startNode(service, service + "-" + (logic ? ++logicCount : ++gatewayCount));
    }

    private NodeProcess startNode(String service, String id) {
        boolean logic = service.equals(ChaosNames.LOGIC);
        TcpProxy proxy = cluster == null ? TcpProxy.to(redis.host(), redis.port()) : null;
        NodeArgs args = new NodeArgs(proxy != null ? proxy.uri("redis") : controlUri, id, settings.heartbeat(),
                settings.ttl(), settings.lease(), settings.redeliverAfter(), settings.trimInterval());
        NodeProcess node;
        try {
            node = NodeProcess.start(logic ? LogicNodeMain.class : GatewayNodeMain.class, service, args,
                    settings.workDir(), history::accept);
        } catch (RuntimeException e) {
            if (proxy != null) {
                proxy.close();
            }
            throw e;
        }
        if (proxy != null) {
            proxies.put(node, proxy);
        }
        live.add(node);
        log.info("started {} (pid {})", id, node.pid());
        return node;
    }

    private FaultRecord apply(int index, Schedule.Fault fault, Bots bots) throws Exception {
        long injected;
        long healed;
        String victim;
        switch (fault.kind()) {
            case KILL_LOGIC, KILL_GATEWAY, KILL_LEADER -> {
                NodeProcess node = pickVictim(fault);
                victim = node.nodeId;
                injected = EventLog.nowMicros();
                node.kill();
                live.remove(node);
                gone.add(node);
                closeProxy(node);
                healed = EventLog.nowMicros();
                startNode(node.service);
            }
            case DRAIN_HANDOFF -> {
                NodeProcess node = pickVictim(fault);
                injected = EventLog.nowMicros();
                live.remove(node);
                gone.add(node);
                boolean exited = node.drain(DRAIN_EXIT_BOUND);
                closeProxy(node);
                healed = EventLog.nowMicros();
                victim = exited ? node.nodeId : node.nodeId + " (no exit within " + DRAIN_EXIT_BOUND.toSeconds()
                        + " s: killed)";
                if (!exited) {
                    log.warn("{} did not exit within {} of its SIGTERM; killed. Its log:\n{}", node.nodeId,
                            DRAIN_EXIT_BOUND, node.logTail());
                }
                startNode(node.service);
            }
            case STOP_NODE, STOP_LEADER -> {
                NodeProcess node = pickVictim(fault);
                victim = node.nodeId;
                injected = EventLog.nowMicros();
                node.freeze();
                pause(fault.hold());
                healed = EventLog.nowMicros();
                node.thaw();
                history.frozen.add(new History.Frozen(node.nodeId, injected, healed));
            }
            case REDIS_KILL -> {
                victim = "redis-server";
                injected = EventLog.nowMicros();
                redis.kill();
                redis.restart();
                healed = EventLog.nowMicros();
            }
            case REDIS_PAUSE -> {
                victim = "redis-server";
                injected = EventLog.nowMicros();
                redis.pause();
                pause(fault.hold());
                redis.resume();
                healed = EventLog.nowMicros();
            }
            case REDIS_RESTART_EMPTY -> {
                victim = "redis-server";
                injected = EventLog.nowMicros();
                redis.restartEmpty();
                healed = EventLog.nowMicros();
            }
            case FLUSHALL -> {
                victim = cluster != null ? "every master" : "redis-server";
                if (fault.pick() % 2 == 0) {
                    awaitLeaseRenewal(Duration.ofSeconds(2));
                }
                injected = EventLog.nowMicros();
                if (cluster != null) {
                    cluster.flushAll();
                } else {
                    redis.flushAll();
                }
                healed = EventLog.nowMicros();
            }
            case CLIENT_KILL_PUBSUB -> {
                victim = "every node's pub/sub";
                injected = EventLog.nowMicros();
                relinkWhilePubsubIsDown(fault);
                pause(fault.hold()); // the relinked players go on playing; their calls are watched
                healed = EventLog.nowMicros();
            }
            case BLACKHOLE -> {
                NodeProcess node = pickVictim(fault);
                TcpProxy proxy = proxies.get(node);
                if (proxy == null) {
                    throw new IllegalStateException("BLACKHOLE needs the nodes' proxies (one redis-server)");
                }
                victim = node.nodeId;
                injected = EventLog.nowMicros();
                proxy.blackhole();
                pause(fault.hold());
                healed = EventLog.nowMicros();
                proxy.restore();
            }
            case CLUSTER_FAILOVER -> {
                RedisServer master = pickMaster(fault);
                victim = "master :" + master.port();
                injected = EventLog.nowMicros();
                cluster.failover(master);
                healed = EventLog.nowMicros();
            }
            case CLUSTER_KILL_MASTER -> {
                RedisServer master = pickMaster(fault);
                victim = "master :" + master.port();
                injected = EventLog.nowMicros();
                cluster.killMaster(master);
                master.restart();
                cluster.awaitHealthy();
                healed = EventLog.nowMicros();
            }
            default -> throw new IllegalStateException("unknown fault " + fault.kind());
        }
        log.info("fault {}: {} on {} held {} ms", index, fault.kind(), victim, (healed - injected) / 1_000);
        long recovered = awaitRecovery(healed, healed + settings.recoveryBound().toNanos() / 1_000, bots);
        long detected = detection(fault.kind(), victim, injected);
        log.info("fault {}: detected after {} ms, full service after {} ms", index,
                detected == 0 ? "-" : (detected - injected) / 1_000, recovered == 0 ? "-" : (recovered - injected) / 1_000);
        return new FaultRecord(index, fault.kind(), victim, injected, healed, detected, recovered);
    }

    private NodeProcess pickVictim(Schedule.Fault fault) {
        Optional<String> leader = currentLeader();
        List<NodeProcess> candidates = switch (fault.kind()) {
            case KILL_GATEWAY -> live.stream().filter(n -> n.service.equals(ChaosNames.GATEWAY)).toList();
            case BLACKHOLE -> {
                // the logic node that handled the latest message of a player's open stream (the pick
                // says which player's), so the cut-off node has a stream to fence; else any logic node
                String token = "player-" + (fault.pick() % Math.max(1, settings.streamers()) + 1);
                Optional<String> streaming = history.streamed.stream().filter(m -> m.token().equals(token))
                        .max(java.util.Comparator.comparingLong(History.Streamed::start)).map(History.Streamed::node);
                List<NodeProcess> logic = live.stream().filter(n -> n.service.equals(ChaosNames.LOGIC)).toList();
                List<NodeProcess> owner = logic.stream().filter(n -> streaming.map(n.nodeId::equals).orElse(false))
                        .toList();
                yield owner.isEmpty() ? logic : owner;
            }
            // a rolling update drains every node, the leader too: its close leaves the election
            case DRAIN_HANDOFF -> live.stream().filter(n -> n.service.equals(ChaosNames.LOGIC)).toList();
            case KILL_LEADER, STOP_LEADER -> live.stream()
                    .filter(n -> n.service.equals(ChaosNames.LOGIC) && leader.map(n.nodeId::equals).orElse(true)).toList();
            default -> live.stream()
                    .filter(n -> n.service.equals(ChaosNames.LOGIC) && !leader.map(n.nodeId::equals).orElse(false)).toList();
        };
        if (candidates.isEmpty()) {
            throw new IllegalStateException("no candidate for " + fault.kind() + " among " + live);
        }
        return candidates.get(fault.pick() % candidates.size());
    }

    /**
     * How long DRAIN_HANDOFF waits for the drained node to exit: its drain timeout
     * ({@link LogicNodeMain#DRAIN_TIMEOUT}) and twice its shutdown grace, with room for a loaded machine.
     */
    static final Duration DRAIN_EXIT_BOUND = LogicNodeMain.DRAIN_TIMEOUT.plusSeconds(20);

    /** How often CLIENT_KILL_PUBSUB drops the pub/sub connections again while its node is held stopped. */
    static final Duration PUBSUB_KILL_EVERY = Duration.ofMillis(250);

    /** How many players CLIENT_KILL_PUBSUB moves while the invalidations are being lost. */
    static final int RELINKED_PLAYERS = 4;

    /**
     * CLIENT KILL TYPE pubsub, then at once a player reconnects through another door: the bots'
     * node relinks it to another logic node (as a gateway binding a token would), and again for
     * {@link #RELINKED_PLAYERS} players that hold no stream, dropping the pub/sub connections
     * before each relink; and once more after the last. Each relink is recorded: from when its new
     * owner first served it, no other node may serve that player until the next fault.
     */
    private void relinkWhilePubsubIsDown(Schedule.Fault fault) throws Exception {
        List<Node> logic = control.discover().nodes(ChaosNames.LOGIC).stream()
                .filter(n -> n.state() == NodeState.ACTIVE).toList();
        int players = settings.bots() - settings.streamers();
        for (int i = 0; i < RELINKED_PLAYERS && players > 0 && logic.size() > 1; i++) {
            String token = "player-" + (settings.streamers() + 1 + (fault.pick() + i) % players);
            Optional<String> owner = history.served.stream().filter(s -> s.token().equals(token))
                    .max(java.util.Comparator.comparingLong(History.Served::start)).map(History.Served::node);
            List<Node> others = logic.stream().filter(n -> !owner.map(n.id()::equals).orElse(false)).toList();
            Node target = others.get((fault.pick() + i) % others.size());
            killPubsubClients();
            control.linkCache().relinkAsync(token, target).get(5, TimeUnit.SECONDS);
            history.relinked.add(new History.Relinked(token, target.id(), EventLog.nowMicros()));
            log.info("relinked {} from {} to {}", token, owner.orElse("?"), target.id());
        }
        killPubsubClients();
    }

    /** CLIENT KILL TYPE pubsub on every node of the store: every pub/sub connection dropped at once. */
    private void killPubsubClients() {
        List<RedisServer> servers = cluster != null ? cluster.nodes() : List.of(redis);
        for (RedisServer server : servers) {
            try (RedisProbe probe = server.probe()) {
                probe.command("CLIENT", "KILL", "TYPE", "pubsub");
            } catch (RuntimeException e) {
                log.warn("CLIENT KILL TYPE pubsub on {} failed: {}", server, e.getMessage());
            }
        }
    }

    /**
     * Waits (at most {@code bound}) until the logic leader has just renewed its lease: the leader
     * key's PTTL jumps up between two reads. A FLUSHALL right then leaves the old leader the
     * longest local lease while the key is gone.
     */
    private void awaitLeaseRenewal(Duration bound) {
        long until = System.nanoTime() + bound.toNanos();
        try (RedisProbe probe = cluster != null ? cluster.masterOf(LEADER_KEY).probe() : redis.probe()) {
            long previous = Long.MAX_VALUE;
            while (System.nanoTime() - until < 0) {
                Object reply = probe.command("PTTL", LEADER_KEY);
                long pttl = reply instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(reply));
                if (previous != Long.MAX_VALUE && pttl > previous + 20) {
                    return;
                }
                previous = pttl;
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }
        log.info("no lease renewal seen within {} ms; FLUSHALL now", bound.toMillis());
    }

    private void closeProxy(NodeProcess node) {
        TcpProxy proxy = proxies.remove(node);
        if (proxy != null) {
            proxy.close();
        }
    }

    /** Even picks: the master holding the logic election; odd ones: any master. */
    private RedisServer pickMaster(Schedule.Fault fault) {
        if (fault.pick() % 2 == 0) {
            return cluster.masterOf(LEADER_KEY);
        }
        List<RedisServer> masters = cluster.masters();
        return masters.get(fault.pick() / 2 % masters.size());
    }

    /** The logic leader Redis names now, if any. */
    private Optional<String> currentLeader() {
        try (RedisProbe probe = cluster != null ? cluster.masterOf(LEADER_KEY).probe() : redis.probe()) {
            Object value = probe.command("GET", LEADER_KEY);
            if (value == null) {
                return Optional.empty();
            }
            String text = value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                    : value.toString();
            int bar = text.indexOf('|');
            return Optional.of(bar < 0 ? text : text.substring(0, bar));
        }
    }

    /**
     * Full service: every live node is registered ACTIVE (and no gone one), as the bots' node sees
     * discovery, and then every bot has completed a successful call that started after that.
     * Returns when that was reached (wall micros), or 0 after the bound.
     */
    private long awaitRecovery(long healed, long boundMicros, Bots bots) {
        long boundNanos = System.nanoTime() + (boundMicros - EventLog.nowMicros()) * 1_000;
        Duration left = Duration.ofNanos(Math.max(0, boundNanos - System.nanoTime()));
        if (!Await.poll(left, this::membershipComplete)) {
            return 0;
        }
        bots.markRecoveryFrom(Math.max(healed, EventLog.nowMicros()));
        left = Duration.ofNanos(Math.max(0, boundNanos - System.nanoTime()));
        if (!Await.poll(left, () -> bots.allOkSinceMark() != 0)) {
            return 0;
        }
        return bots.allOkSinceMark();
    }

    /**
     * Every live node is registered ACTIVE and no gone one is. A node that died before it was
     * ready (its start timed out on this loaded machine) is started again under its id first.
     */
    private boolean membershipComplete() {
        for (NodeProcess node : List.copyOf(live)) {
            if (!node.isReady() && !node.isAlive()) {
                log.warn("{} died while starting; starting it again. Its log:\n{}", node.nodeId, node.logTail());
                live.remove(node);
                gone.add(node);
                closeProxy(node);
                startNode(node.service, node.nodeId);
            }
        }
        for (String service : List.of(ChaosNames.LOGIC, ChaosNames.GATEWAY)) {
            Set<String> expected = live.stream().filter(n -> n.service.equals(service)).map(n -> n.nodeId)
                    .collect(Collectors.toSet());
            Set<String> registered = control.discover().nodes(service).stream()
                    .filter(n -> n.state() == NodeState.ACTIVE).map(Node::id).collect(Collectors.toSet());
            if (!expected.equals(registered)) {
                return false;
            }
        }
        return true;
    }

    private void awaitFullMembership(Duration timeout) {
        Await.until(timeout, () -> "every node up and registered; logs:\n" + live.stream()
                .map(n -> n.nodeId + ": " + n.logTail()).collect(Collectors.joining("\n")),
                () -> membershipComplete() && live.stream().allMatch(NodeProcess::isReady));
    }

    /**
     * When the fault was noticed: for a node, when discovery (as the bots' node sees it) dropped
     * it; for Redis, when the first bot call failed. 0 when nothing noticed.
     */
    private long detection(FaultKind kind, String victim, long injected) {
        if (kind.isRedisFault()) {
            return history.calls.stream().filter(c -> !c.ok() && c.end() >= injected)
                    .mapToLong(History.BotCall::end).min().orElse(0);
        }
        String node = victim.split(" ", 2)[0];
        return removals.stream().filter(e -> e.getKey().equals(node) && e.getValue() >= injected)
                .mapToLong(Map.Entry::getValue).min().orElse(0);
    }

    /**
     * Waits until every acknowledged message that no data loss could have taken was handled on
     * every channel, or the timeout.
     */
    private void awaitMessagesHandled(Duration timeout) {
        List<FaultRecord> losses = history.faults.stream().filter(f -> f.kind().losesData()).toList();
        Await.poll(timeout, () -> {
            Set<String> acked = history.published.stream().filter(p -> Checkers.lostWith(p, losses) == null)
                    .map(History.Published::id).collect(Collectors.toSet());
            for (String channel : ChaosNames.CHANNELS) {
                Set<String> seen = new HashSet<>();
                history.handled.stream().filter(h -> h.channel().equals(channel)).forEach(h -> seen.add(h.id()));
                if (!seen.containsAll(acked)) {
                    return false;
                }
            }
            return true;
        });
    }

    private void stopAll() throws InterruptedException {
        for (NodeProcess node : live) {
            node.close();
        }
        gone.addAll(live);
        live.clear();
        for (TcpProxy proxy : proxies.values()) {
            proxy.close();
        }
        proxies.clear();
    }

    private static void pause(Duration duration) {
        long until = System.nanoTime() + duration.toNanos();
        for (long left = duration.toNanos(); left > 0; left = until - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    /**
     * {@code -Dchaos.schedule=short|long} (default short), {@code -Dchaos.seed=N} (default 42),
     * {@code -Dchaos.minutes=M} (long schedule length, default 9), {@code -Dchaos.redis=single|cluster}
     * (default single), {@code -Dchaos.report=PATH} (default CHAOS.md in the working directory).
     * Exits 1 when a checker found a violation.
     */
    public static void main(String[] args) throws Exception {
        boolean longSchedule = "long".equals(System.getProperty("chaos.schedule", "short"));
        long seed = Long.getLong("chaos.seed", 42);
        Duration length = Duration.ofMinutes(Long.getLong("chaos.minutes", 9));
        Path report = Path.of(System.getProperty("chaos.report", "CHAOS.md"));
        Path work = Files.createTempDirectory("braid-chaos-");
        ChaosReport result = run(Settings.defaults(seed, longSchedule, length, work)
                .withCluster("cluster".equals(System.getProperty("chaos.redis", "single"))));
        result.write(report);
        System.out.println(result.markdown());
        System.exit(result.violations().isEmpty() ? 0 : 1);
    }

    static void writeQuietly(Path path, String text) {
        try {
            Files.writeString(Objects.requireNonNull(path), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long millis(long micros) {
        return TimeUnit.MICROSECONDS.toMillis(micros);
    }
}
