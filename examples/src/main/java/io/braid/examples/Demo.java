package io.braid.examples;

import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.examples.bots.Bots;
import io.braid.examples.bots.BotsReport;
import io.braid.examples.chat.ChatService;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.gateway.PageServer;
import io.braid.examples.monitor.MonitorService;
import io.braid.monitor.MonitorOptions;
import io.braid.examples.logic.Activations;
import io.braid.examples.logic.LogicService;
import io.braid.runtime.Braid;
import io.braid.runtime.InMemoryControlPlane;
import java.io.PrintStream;
import java.net.BindException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The whole product in one JVM: gateways (one by default), three logic nodes, the chat service, the monitor,
 * the player page and the bots, on the embedded in-memory control plane or on Redis. It prints
 * progress while the bots play and a summary at the end, whose checks are that every player was
 * served by exactly one logic node (seen both from the players' side and from the logic nodes' own
 * records) and that every push a gateway accepted reached its player exactly once, with no player
 * logged out by a session end that a resume should have spared.
 *
 * <p>With {@code --restart-gateway} ({@link Options#restartGateway()}) the oldest gateway crashes
 * halfway through the run and a fresh one takes its port ({@link GatewayRestart}); the players'
 * sessions must resume on a surviving gateway or the new one, and the push checks must still hold.
 *
 * <p>With a rolling update ({@link Options#rollingUpdate()}, {@code --rolling-update}) each logic node
 * in turn is drained and replaced by a fresh one while the bots play ({@link RollingUpdate}); players
 * then move, and the checks become: no click a player was told about is lost ({@code ClickLedger},
 * from the players' side), and no player was served by two logic nodes at once (the nodes'
 * {@link Activations} records, compared on this JVM's clock).
 */
public final class Demo implements AutoCloseable {
    public static final Setting LOGIC_NODES = new Setting("--logic-nodes", "DEMO_LOGIC_NODES", "3",
            "logic nodes to start");
    public static final Setting ROLLING_UPDATE = Setting.ofSwitch("--rolling-update", "DEMO_ROLLING_UPDATE",
            "drain each logic node in turn during the run (its players handed over) and replace it; "
                    + "checks that no click is lost and no player is served by two nodes at once");
    public static final Setting GATEWAYS = new Setting("--gateways", "DEMO_GATEWAYS", "1",
            "gateways to start (the first on --http-port, the others on free ports); the bots spread over them");
    public static final Setting RESTART_GATEWAY = Setting.ofSwitch("--restart-gateway", "DEMO_RESTART_GATEWAY",
            "halfway through the run the oldest gateway crashes and a fresh one takes its port; checks the players'"
                    + " sessions resume with no push lost or doubled");
    public static final List<Setting> SETTINGS = List.of(Bots.SECONDS, Bots.PLAYERS, NodeSettings.REDIS,
            NodeSettings.REDIS_CLUSTER, GatewayService.HTTP_PORT, GatewayService.HTTP_HOST, PageServer.PAGE_PORT,
            GATEWAYS, RESTART_GATEWAY, LOGIC_NODES, ROLLING_UPDATE, Bots.THINK_MILLIS, Bots.CHAT_PERCENT,
            LogicService.REWARD_SECONDS);
    /** With {@code --seconds 0} and {@code --restart-gateway}: when the gateway crashes. */
    private static final Duration RESTART_AT_UNBOUNDED = Duration.ofSeconds(15);
    /**
     * How long the summary waits for pushes still under way when the bots have left: a push's
     * retries end within {@link PlayerPusher#RETRY_FOR}, its last try within its 5 s timeout.
     */
    private static final Duration PUSHES_SETTLE_WITHIN = PlayerPusher.RETRY_FOR.plusSeconds(6);

    private static final Duration READY_WITHIN = Duration.ofSeconds(20);
    /** With {@code --seconds 0} and {@code --rolling-update}: a node is replaced this often until Ctrl-C. */
    private static final Duration ROLLING_EVERY_UNBOUNDED = Duration.ofSeconds(10);
    /** How long the summary waits for a rolling-update step under way to finish. */
    private static final Duration ROLLING_STEP_FINISHES_WITHIN = RollingUpdate.LISTED_WITHIN
            .plus(RollingUpdate.DRAIN_WITHIN).plusSeconds(5);

    /**
     * How the demo runs. {@code redisUri} and {@code redisCluster} null/empty: in memory.
     * {@code duration} zero: until {@link #stop()}. {@code rollingUpdate}: each logic node in turn
     * is drained and replaced during the run ({@link RollingUpdate}), {@code logicNodes} steps spread
     * evenly over {@code duration} (one every 10 s with no duration). {@code httpPort}: the first
     * gateway's WebSocket; {@code pagePort}: the player page. {@code gateways}: how many;
     * {@code restartGateway}: the oldest crashes halfway and a fresh one takes its port.
     */
    public record Options(String redisUri, List<String> redisCluster, int players, Duration duration, Duration think,
                          int chatPercent, int logicNodes, String httpHost, int httpPort, int pagePort,
                          Duration rewardAfter, boolean rollingUpdate, int gateways, boolean restartGateway) {
        public Options {
            redisCluster = redisCluster == null ? List.of() : List.copyOf(redisCluster);
            if (logicNodes < 1) {
                throw new IllegalArgumentException("logicNodes must be at least 1, was " + logicNodes);
            }
            if (gateways < 1 || gateways > 16) {
                throw new IllegalArgumentException("gateways must be in 1..16, was " + gateways);
            }
        }

        /** In memory, the given players and seconds, free ports, one gateway. */
        public static Options inMemory(int players, Duration duration) {
            return new Options(null, List.of(), players, duration, Duration.ofMillis(100), 2, 3, "127.0.0.1", 0, 0,
                    Duration.ofSeconds(3), false, 1, false);
        }

        public Options withRedis(String uri) {
            return new Options(uri, redisCluster, players, duration, think, chatPercent, logicNodes, httpHost, httpPort,
                    pagePort, rewardAfter, rollingUpdate, gateways, restartGateway);
        }

        public Options withRewardAfter(Duration after) {
            return new Options(redisUri, redisCluster, players, duration, think, chatPercent, logicNodes, httpHost,
                    httpPort, pagePort, after, rollingUpdate, gateways, restartGateway);
        }

        public Options withLogicNodes(int nodes) {
            return new Options(redisUri, redisCluster, players, duration, think, chatPercent, nodes, httpHost,
                    httpPort, pagePort, rewardAfter, rollingUpdate, gateways, restartGateway);
        }

        public Options withRollingUpdate(boolean on) {
            return new Options(redisUri, redisCluster, players, duration, think, chatPercent, logicNodes, httpHost,
                    httpPort, pagePort, rewardAfter, on, gateways, restartGateway);
        }

        public Options withGateways(int count, boolean restart) {
            return new Options(redisUri, redisCluster, players, duration, think, chatPercent, logicNodes, httpHost,
                    httpPort, pagePort, rewardAfter, rollingUpdate, count, restart);
        }

        String plane() {
            if (redisUri != null) {
                return "Redis at " + redisUri;
            }
            return redisCluster.isEmpty() ? "the in-memory control plane" : "Redis Cluster " + redisCluster;
        }
    }

    /**
     * The end of a run.
     *
     * @param bots            what the players saw
     * @param servedPerNode   each logic node's own count of the players it served
     * @param onSeveralNodes  tokens that more than one logic node served (by their own records)
     * @param chatPublished   lines the chat service published
     * @param passed          the check: every player served by exactly one logic node, on both sides;
     *                        with a rolling update, its checks instead ({@link Rolling#passed()})
     * @param rolling         what the rolling update did and its checks; null without one
     * @param sessions        the gateways, the players' sessions and the pushes, and their checks
     * @param lines           the printed summary
     */
    public record Summary(BotsReport bots, Map<String, Integer> servedPerNode, List<String> onSeveralNodes,
                          long chatPublished, boolean passed, Rolling rolling, Sessions sessions, List<String> lines) {
    }

    /**
     * The gateways, the players' sessions and the pushes, and their checks.
     *
     * @param gateways                the gateways started, in order (a restart's replacement too)
     * @param restart                 what {@code --restart-gateway} did; null without one (or before it happened)
     * @param resumed                 sessions the players' clients resumed after a drop
     * @param relogins                sessions that could not be resumed: the player logged in afresh
     * @param pushesSent              pushes the gateways accepted (GatewayPush answered a sequence number),
     *                                from the logic nodes (rewards) and the chat service (chat lines)
     * @param pushesRefused           pushes the gateways refused, by code (NOT_FOUND: the player had no
     *                                session, e.g. it had logged out; UNAVAILABLE: its session was moving)
     * @param pushesReceived          pushes the players received (each id once)
     * @param receivedThoughRefused   of those, pushes whose pusher saw its push fail (a timeout: the
     *                                gateway may still have written it), so not counted as sent
     * @param pushesLost              pushes accepted that no player received
     * @param duplicatePushes         pushes a player received more than once
     * @param resumedPlayersLoggedOut players a logic node logged out because a session that had been
     *                                resumed ended without a logout ({@link LogicService#resumedPlayersLoggedOut()})
     * @param problems                what went wrong otherwise, in words (a restart that failed, a gap)
     */
    public record Sessions(List<String> gateways, GatewayRestart.Step restart, long resumed, long relogins,
                           long pushesSent, Map<String, Long> pushesRefused, long pushesReceived,
                           long receivedThoughRefused, long pushesLost,
                           long duplicatePushes, long resumedPlayersLoggedOut, List<String> problems) {
        public Sessions {
            gateways = List.copyOf(gateways);
            pushesRefused = Map.copyOf(pushesRefused);
            problems = List.copyOf(problems);
        }

        /** The checks: no push lost or doubled, no session lost, no resumed player logged out, nothing else wrong. */
        public boolean passed() {
            return pushesLost == 0 && duplicatePushes == 0 && relogins == 0 && resumedPlayersLoggedOut == 0
                    && problems.isEmpty();
        }
    }

    /**
     * What a rolling update did, and its checks.
     *
     * @param handoffs          the drains made, each a logic node replaced by a fresh one
     * @param problems          steps that could not be made, in words (none when all went through)
     * @param playersMoved      players handed over with their snapshot (HANDOFF activations, on all logic nodes)
     * @param callsFailed       the players' calls that failed, for any reason (a call the old owner
     *                          refused after a hand-over among them)
     * @param clicksLost        answers that did not count on from what the player was last told
     *                          ({@code ClickLedger}): 0 when every click a player was told about is still counted
     * @param servedByTwoAtOnce pairs of activations of one player on two nodes that served at overlapping
     *                          times ({@link Activations#servedByTwoAtOnce})
     */
    public record Rolling(List<RollingUpdate.Step> handoffs, List<String> problems, long playersMoved,
                          long callsFailed, long clicksLost, List<Activations.Overlap> servedByTwoAtOnce) {
        public Rolling {
            handoffs = List.copyOf(handoffs);
            problems = List.copyOf(problems);
            servedByTwoAtOnce = List.copyOf(servedByTwoAtOnce);
        }

        /** The checks: no click lost, no player served by two nodes at once. */
        public boolean passed() {
            return clicksLost == 0 && servedByTwoAtOnce.isEmpty();
        }
    }

    private final Options options;
    private final Deque<AutoCloseable> started = new ConcurrentLinkedDeque<>(); // a rolling update adds nodes
    /** Every logic node started, in order (replaced ones too: the summary reads their records). */
    private final List<LogicService> logic = new CopyOnWriteArrayList<>();
    /** Ids of the logic nodes a rolling update replaced. */
    private final Set<String> retired = ConcurrentHashMap.newKeySet();
    private final InMemoryControlPlane plane;
    private ChatService chat;
    private MonitorService monitor;
    /** The gateways up now, oldest first (a crashed one leaves, its replacement joins at the end). */
    private final List<GatewayService> gateways = new CopyOnWriteArrayList<>();
    /** Every gateway started, in order. */
    private final List<String> gatewaysStarted = new CopyOnWriteArrayList<>();
    private PageServer page;
    private volatile Bots bots;
    private volatile RollingUpdate rollingUpdate;
    private volatile GatewayRestart gatewayRestart;
    private volatile boolean stopRequested;

    private Demo(Options options) {
        this.options = options;
        this.plane = options.redisUri() == null && options.redisCluster().isEmpty()
                ? new InMemoryControlPlane("demo-" + UUID.randomUUID()) : null;
    }

    /** Starts every node and waits until the gateways, logic and chat nodes see each other. */
    public static Demo start(Options options) {
        Demo demo = new Demo(options);
        try {
            demo.startNodes();
            return demo;
        } catch (RuntimeException e) {
            demo.close();
            throw e;
        }
    }

    private Braid.Builder node(String id) {
        Braid.Builder builder = Braid.builder().nodeId(id).ioThreads(1);
        if (plane != null) {
            return builder.inMemory(plane);
        }
        return options.redisUri() != null ? builder.redis(options.redisUri()) : builder.redisCluster(options.redisCluster());
    }

    private void startNodes() {
        for (int i = 1; i <= options.logicNodes(); i++) {
            startLogic();
        }
        chat = ChatService.start(node("chat-1"));
        started.push(chat);
        for (int i = 1; i <= options.gateways(); i++) {
            startGateway(i == 1 ? options.httpPort() : 0, true);
        }
        try {
            monitor = MonitorService.start(node("monitor-1"), MonitorOptions.DEFAULT);
        } catch (RuntimeException e) {
            // Port 9999 is taken (another demo?): any free one will do for the dashboard.
            monitor = MonitorService.start(node("monitor-1"), MonitorOptions.DEFAULT.withPort(0));
        }
        started.push(monitor);
        try {
            page = PageServer.start(monitor.braid(), options.httpHost(), options.pagePort(), this::webSocketUrls);
        } catch (IllegalStateException e) {
            if (!(e.getCause() instanceof BindException) || options.pagePort() == 0) {
                throw e;
            }
            // The port is taken (another demo?): any free one will do for the page.
            page = PageServer.start(monitor.braid(), options.httpHost(), 0, this::webSocketUrls);
        }
        started.push(page);
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        while (!ready()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the gateways do not see " + options.logicNodes()
                        + " ACTIVE logic nodes and a chat node, or the logic and chat nodes do not see "
                        + options.gateways() + " gateways, after " + READY_WITHIN.toSeconds() + " s; gateway-1 sees "
                        + gateways.getFirst().braid().discover().nodes(LogicService.SERVICE) + ", chat sees "
                        + chat.braid().discover().nodes(GatewayService.SERVICE));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling discovery's local view
        }
    }

    /**
     * Starts gateway {@code gateway-<n>}, n one more than the gateways started so far, on {@code port}
     * (0: a free one; with {@code anyPortIfTaken}, a free one also when the port is taken).
     *
     * @throws IllegalStateException when the port is taken (and not {@code anyPortIfTaken})
     */
    private synchronized GatewayService startGateway(int port, boolean anyPortIfTaken) {
        String id = "gateway-" + (gatewaysStarted.size() + 1);
        GatewayService gateway;
        try {
            gateway = GatewayService.start(node(id), options.httpHost(), port);
        } catch (IllegalStateException e) {
            if (!anyPortIfTaken || port == 0) {
                throw e;
            }
            // The port is taken (another demo?): any free one will do.
            gateway = GatewayService.start(node(id), options.httpHost(), 0);
        }
        started.push(gateway);
        gateways.add(gateway);
        gatewaysStarted.add(id);
        return gateway;
    }

    /** The players' WebSocket URLs of the gateways up now, oldest first. */
    private List<URI> webSocketUrls() {
        return gateways.stream().map(GatewayService::webSocketUrl).toList();
    }

    /** Starts logic node {@code logic-<n>}, n one more than the nodes started so far; closed by {@link #close()}. */
    private synchronized LogicService startLogic() {
        LogicService node = LogicService.start(node("logic-" + (logic.size() + 1)), options.rewardAfter());
        started.push(node);
        logic.add(node);
        return node;
    }

    /** The logic nodes not replaced by a rolling update, oldest first. */
    private List<LogicService> serving() {
        return logic.stream().filter(l -> !retired.contains(l.nodeId())).toList();
    }

    /** Whether the gateways and every serving logic node list {@code node} ACTIVE. */
    private boolean listed(LogicService node) {
        return Stream.concat(gateways.stream().map(GatewayService::braid), serving().stream().map(LogicService::braid))
                .allMatch(b -> b.discover().nodes(LogicService.SERVICE).stream()
                        .anyMatch(n -> n.id().equals(node.nodeId()) && n.state() == NodeState.ACTIVE));
    }

    private boolean ready() {
        Set<String> ours = logic.stream().map(LogicService::nodeId).collect(Collectors.toSet());
        for (GatewayService gateway : gateways) {
            long active = gateway.braid().discover().nodes(LogicService.SERVICE).stream()
                    .filter(n -> n.state() == NodeState.ACTIVE).map(Node::id).filter(ours::contains).count();
            if (active != options.logicNodes() || gateway.braid().discover().nodes(ChatService.SERVICE).isEmpty()) {
                return false;
            }
        }
        // The gateways bind players through each other, and the pushers reach them, by discovery too.
        return Stream.of(Stream.of(chat.braid()), logic.stream().map(LogicService::braid),
                        gateways.stream().map(GatewayService::braid)).flatMap(b -> b)
                .allMatch(b -> b.discover().nodes(GatewayService.SERVICE).size() == gateways.size());
    }

    /** Where a person opens the player page. */
    public String pageUrl() {
        return page.url();
    }

    /** Where the cluster dashboard is. */
    public String dashboardUrl() {
        return monitor.dashboardUrl();
    }

    /** The gateways up now, oldest first. */
    public List<GatewayService> gateways() {
        return List.copyOf(gateways);
    }

    /** Every logic node started so far, replaced ones too, in order. */
    public List<LogicService> logic() {
        return List.copyOf(logic);
    }

    /** Asks the bots to log out now (and a rolling update to start no further step); {@link #run} then prints the summary and returns. */
    public void stop() {
        stopRequested = true;
        Bots running = bots;
        if (running != null) {
            running.stop();
        }
        RollingUpdate rolling = rollingUpdate;
        if (rolling != null) {
            rolling.stop();
        }
        GatewayRestart restart = gatewayRestart;
        if (restart != null) {
            restart.stop();
        }
    }

    /** Runs the bots for the set time (or until {@link #stop()}), printing progress to {@code out}. */
    public Summary run(PrintStream out, Duration progressEvery) throws InterruptedException {
        Bots.Options botOptions = new Bots.Options(webSocketUrls(), options.players(), options.duration(),
                options.think(), options.chatPercent(), "bot-" + UUID.randomUUID().toString().substring(0, 4));
        out.printf("braid demo: %d logic nodes, 1 chat node, %d gateway%s (%s) on %s; %d bots for %s%n", logic.size(),
                gateways.size(), gateways.size() == 1 ? "" : "s", webSocketUrls().stream().map(URI::toString)
                        .collect(Collectors.joining(", ")), options.plane(), options.players(),
                options.duration().isZero() ? "as long as you like (Ctrl-C ends it)" : options.duration().toSeconds() + " s");
        out.printf("player page: %s  (log in, click, chat; the bots' chat shows up there too)%n", pageUrl());
        out.printf("dashboard:   %s  (nodes, leaders, links, call rates, topics; drain a node from there)%n",
                dashboardUrl());
        if (options.rollingUpdate()) {
            Duration every = options.duration().isZero() ? ROLLING_EVERY_UNBOUNDED
                    : options.duration().dividedBy(options.logicNodes() + 1);
            out.printf("rolling update: each logic node in turn is drained (its players handed over) and replaced, "
                    + "one every %.1f s%n", every.toMillis() / 1000.0);
            rollingUpdate = new RollingUpdate(new RollingUpdate.Cluster() {
                @Override
                public LogicService startLogic() {
                    return Demo.this.startLogic();
                }

                @Override
                public List<LogicService> serving() {
                    return Demo.this.serving();
                }

                @Override
                public boolean listed(LogicService node) {
                    return Demo.this.listed(node);
                }

                @Override
                public void retired(LogicService node) {
                    retired.add(node.nodeId());
                }
            }, every, options.duration().isZero() ? 0 : options.logicNodes(), out);
        }
        if (options.restartGateway()) {
            Duration at = options.duration().isZero() ? RESTART_AT_UNBOUNDED : options.duration().dividedBy(2);
            out.printf("gateway restart: at %.1f s (or once every player is online) the oldest gateway crashes and a"
                    + " fresh one takes its port%n",
                    at.toMillis() / 1000.0);
            gatewayRestart = new GatewayRestart(gateways::getFirst,
                    () -> bots != null && bots.progress().online() == options.players(), port -> {
                GatewayService fresh = startGateway(port, false);
                gateways.removeIf(g -> !g.isUp());
                return fresh;
            }, at, out);
        }
        out.flush();
        long startedAt = System.nanoTime();
        bots = Bots.start(botOptions);
        if (rollingUpdate != null) {
            rollingUpdate.start();
        }
        if (gatewayRestart != null) {
            gatewayRestart.start(startedAt);
        }
        if (stopRequested) {
            stop();
        }
        long lastLine = startedAt;
        Bots.Progress previous = bots.progress();
        while (!bots.await(progressEvery)) {
            Bots.Progress now = bots.progress();
            long at = System.nanoTime();
            out.println(Bots.progressLine(Duration.ofNanos(at - startedAt), options.players(), previous, now,
                    Duration.ofNanos(at - lastLine)) + " · logic online " + logicOnline());
            out.flush();
            previous = now;
            lastLine = at;
        }
        RollingUpdate rolling = rollingUpdate;
        if (rolling != null) {
            rolling.stop();
            if (!rolling.await(ROLLING_STEP_FINISHES_WITHIN)) {
                out.println("rolling update: a step is still under way; the summary counts what is done");
            }
        }
        GatewayRestart restart = gatewayRestart;
        if (restart != null) {
            restart.stop();
            if (!restart.await(GatewayRestart.PORT_FREE_WITHIN.plusSeconds(10))) {
                out.println("gateway restart: still under way; the summary counts what is done");
            }
        }
        awaitPushesSettled();
        Summary summary = summarize(bots.report(), Duration.ofNanos(System.nanoTime() - startedAt));
        out.println();
        summary.lines().forEach(out::println);
        out.flush();
        return summary;
    }

    private String logicOnline() {
        return serving().stream().map(l -> l.nodeId() + " " + l.playersOnline()).collect(Collectors.joining(", "));
    }

    private Summary summarize(BotsReport report, Duration ran) {
        if (rollingUpdate != null) {
            return summarizeRollingUpdate(report, ran, rollingUpdate);
        }
        Map<String, Integer> servedPerNode = new LinkedHashMap<>();
        Map<String, List<String>> nodesByToken = new HashMap<>();
        for (LogicService node : logic) {
            Set<String> tokens = node.tokensServed();
            servedPerNode.put(node.nodeId(), tokens.size());
            tokens.forEach(t -> nodesByToken.computeIfAbsent(t, k -> new ArrayList<>()).add(node.nodeId()));
        }
        List<String> onSeveral = nodesByToken.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .map(e -> e.getKey() + " " + e.getValue()).sorted().toList();
        Sessions sessions = sessions(report);
        boolean passed = report.everyPlayerOnExactlyOneNode() && onSeveral.isEmpty() && sessions.passed();
        List<String> lines = new ArrayList<>();
        lines.add(String.format("== summary: %d s on %s%s", ran.toSeconds(), options.plane(),
                sessions.restart() != null ? ", with a gateway restart" : ""));
        lines.addAll(report.summaryLines().subList(0, report.summaryLines().size() - 1));
        lines.add("logic nodes' own records, players served: " + servedPerNode.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "))
                + (onSeveral.isEmpty() ? "; no token on two nodes" : "; tokens on two nodes: " + onSeveral));
        lines.add(String.format("chat: the chat service published %d lines and pushed %d to players",
                chat.published(), chat.pusher().acceptedCount()));
        lines.addAll(sessionLines(sessions, report));
        lines.add(report.summaryLines().get(report.summaryLines().size() - 1));
        lines.add("RESULT: " + (passed ? "PASS" : "FAIL"));
        return new Summary(report, servedPerNode, onSeveral, chat.published(), passed, null, sessions, lines);
    }

    /** Waits (a while) until no push is on its way: the pushes' outcomes are then all known. */
    private void awaitPushesSettled() {
        long deadline = System.nanoTime() + PUSHES_SETTLE_WITHIN.toNanos();
        while (pushers().stream().mapToLong(PlayerPusher::inFlight).sum() > 0 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling the pushers' counters
        }
    }

    private List<PlayerPusher> pushers() {
        return Stream.concat(Stream.of(chat.pusher()), logic.stream().map(LogicService::pusher)).toList();
    }

    /** The gateways, sessions and pushes of the run: every accepted push against every push received. */
    private Sessions sessions(BotsReport report) {
        Set<String> accepted = new java.util.HashSet<>();
        Map<String, Long> refused = new TreeMap<>();
        for (PlayerPusher pusher : pushers()) {
            accepted.addAll(pusher.accepted());
            pusher.failed().forEach((code, count) -> refused.merge(code, count, Long::sum));
        }
        long lost = accepted.stream().filter(id -> !report.pushesById().containsKey(id)).count();
        long receivedThoughRefused = report.pushesById().keySet().stream().filter(id -> !accepted.contains(id)).count();
        long resumedLoggedOut = logic.stream().mapToLong(LogicService::resumedPlayersLoggedOut).sum();
        List<String> problems = new ArrayList<>();
        GatewayRestart restart = gatewayRestart;
        if (restart != null) {
            restart.problem().ifPresent(problems::add);
            if (restart.step().isEmpty() && restart.problem().isEmpty()) {
                problems.add("the gateway restart did not happen (the run ended first)");
            }
        }
        if (report.sessions().gaps() > 0) {
            problems.add(report.sessions().gaps() + " gaps in the players' push sequences");
        }
        return new Sessions(gatewaysStarted, restart == null ? null : restart.step().orElse(null),
                report.sessions().resumed(), report.sessions().relogins(), accepted.size(), refused,
                report.pushesReceived(), receivedThoughRefused, lost, report.duplicatePushes(), resumedLoggedOut,
                problems);
    }

    private static List<String> sessionLines(Sessions sessions, BotsReport report) {
        List<String> lines = new ArrayList<>();
        lines.add("gateways: " + String.join(", ", sessions.gateways())
                + (sessions.restart() == null ? "" : "; " + sessions.restart().describe()));
        lines.add(String.format("sessions resumed %d, logged in afresh %d", sessions.resumed(), sessions.relogins()));
        report.sessions().trouble().stream().limit(5).forEach(t -> lines.add("  session trouble: " + t));
        lines.add(String.format("pushes sent %d (accepted by the gateways; refused %s), pushes received %d%s",
                sessions.pushesSent(), sessions.pushesRefused().isEmpty() ? "none" : new TreeMap<>(sessions.pushesRefused()),
                sessions.pushesReceived(), sessions.receivedThoughRefused() == 0 ? "" : " (" + sessions.receivedThoughRefused()
                        + " of them refused to their pusher, by a timeout: not owed, yet written)"));
        lines.add(check("pushes lost", sessions.pushesLost()));
        lines.add(check("duplicate pushes", sessions.duplicatePushes()));
        lines.add(check("logouts of resumed players", sessions.resumedPlayersLoggedOut()));
        lines.add(check("sessions lost (logged in afresh)", sessions.relogins()));
        sessions.problems().forEach(p -> lines.add("check: " + p + ": FAIL"));
        return lines;
    }

    private static String check(String what, long count) {
        return String.format("check: %s %d: %s", what, count, count == 0 ? "PASS" : "FAIL");
    }

    /**
     * The summary of a run with a rolling update: players move on purpose, so the check is not
     * "one node per player" but that no click a player was told about is lost and no player was
     * served by two nodes at once (and that players logged in at all).
     */
    private Summary summarizeRollingUpdate(BotsReport report, Duration ran, RollingUpdate rolling) {
        Map<String, Integer> servedPerNode = new LinkedHashMap<>();
        Map<String, List<String>> nodesByToken = new HashMap<>();
        List<Activations.Served> served = new ArrayList<>();
        long playersMoved = 0;
        for (LogicService node : logic) {
            Set<String> tokens = node.tokensServed();
            servedPerNode.put(node.nodeId(), tokens.size());
            tokens.forEach(t -> nodesByToken.computeIfAbsent(t, k -> new ArrayList<>()).add(node.nodeId()));
            served.addAll(node.activations().served());
            playersMoved += node.playersReceived();
        }
        List<String> onSeveral = nodesByToken.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .map(e -> e.getKey() + " " + e.getValue()).sorted().toList();
        List<Activations.Overlap> twoAtOnce = Activations.servedByTwoAtOnce(served);
        Rolling outcome = new Rolling(rolling.steps(), rolling.problems(), playersMoved, report.errorCount(),
                report.clicksLost(), twoAtOnce);
        Sessions sessions = sessions(report);
        boolean passed = report.loggedIn() > 0 && outcome.passed() && sessions.passed();

        List<String> lines = new ArrayList<>();
        lines.add(String.format("== summary: %d s on %s, with a rolling update", ran.toSeconds(), options.plane()));
        lines.addAll(report.summaryLines().subList(0, report.summaryLines().size() - 1));
        lines.add("logic nodes' own records, players served: " + servedPerNode.entrySet().stream()
                .map(e -> e.getKey() + (retired.contains(e.getKey()) ? " (replaced) " : " ") + e.getValue())
                .collect(Collectors.joining(", ")) + "; " + onSeveral.size() + " players served by more than one node"
                + " over the run");
        lines.add(String.format("chat: the chat service published %d lines and pushed %d to players",
                chat.published(), chat.pusher().acceptedCount()));
        lines.add(String.format("rolling update: %d handoffs (drains)%s; players moved %d; calls failed %d%s",
                outcome.handoffs().size(), outcome.handoffs().isEmpty() ? "" : ": " + outcome.handoffs().stream()
                        .map(RollingUpdate.Step::describe).collect(Collectors.joining("; ")),
                playersMoved, outcome.callsFailed(), report.errors().isEmpty() ? "" : " " + new TreeMap<>(report.errors())));
        outcome.problems().forEach(p -> lines.add("rolling update: " + p));
        lines.add(String.format("check: clicks lost %d (every click a player was told about still counted after every "
                + "move): %s%s", outcome.clicksLost(), outcome.clicksLost() == 0 ? "PASS" : "FAIL",
                outcome.clicksLost() == 0 ? "" : " " + report.clickViolations(5)));
        lines.add(String.format("check: served by two nodes at once %d: %s%s", twoAtOnce.size(),
                twoAtOnce.isEmpty() ? "PASS" : "FAIL", twoAtOnce.isEmpty() ? ""
                        : " " + twoAtOnce.stream().limit(5).map(Activations.Overlap::toString).toList()));
        lines.addAll(sessionLines(sessions, report));
        if (report.loggedIn() == 0) {
            lines.add("check: no player logged in: FAIL");
        }
        lines.add("RESULT: " + (passed ? "PASS" : "FAIL"));
        return new Summary(report, servedPerNode, onSeveral, chat.published(), passed, outcome, sessions, lines);
    }

    @Override
    public void close() {
        Bots running = bots;
        if (running != null) {
            running.close();
        }
        RollingUpdate rolling = rollingUpdate;
        if (rolling != null) {
            rolling.stop();
            try {
                rolling.await(ROLLING_STEP_FINISHES_WITHIN);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        GatewayRestart restart = gatewayRestart;
        if (restart != null) {
            restart.stop();
            try {
                restart.await(GatewayRestart.PORT_FREE_WITHIN.plusSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                System.err.println("closing failed: " + e);
            }
        }
    }

    static Options options(Settings settings) {
        if (settings.has(NodeSettings.REDIS) && settings.has(NodeSettings.REDIS_CLUSTER)) {
            throw new IllegalArgumentException("give either --redis or --redis-cluster, not both");
        }
        List<String> cluster = settings.has(NodeSettings.REDIS_CLUSTER)
                ? Arrays.stream(settings.get(NodeSettings.REDIS_CLUSTER).split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList()
                : List.of();
        return new Options(settings.get(NodeSettings.REDIS), cluster, settings.getInt(Bots.PLAYERS, 1, 100_000),
                settings.getSeconds(Bots.SECONDS), Duration.ofMillis(settings.getInt(Bots.THINK_MILLIS, 0, 60_000)),
                settings.getInt(Bots.CHAT_PERCENT, 0, 100), settings.getInt(LOGIC_NODES, 1, 32),
                settings.get(GatewayService.HTTP_HOST), settings.getInt(GatewayService.HTTP_PORT, 0, 65_535),
                settings.getInt(PageServer.PAGE_PORT, 0, 65_535), settings.getSeconds(LogicService.REWARD_SECONDS),
                settings.getBoolean(ROLLING_UPDATE), settings.getInt(GATEWAYS, 1, 16),
                settings.getBoolean(RESTART_GATEWAY));
    }

    /** {@code ./demo}: runs the demo; exit code 0 when the check passes. */
    public static void main(String[] args) throws Exception {
        Options options = options(Settings.parse("demo", SETTINGS, args, System.getenv()));
        PrintStream out = System.out;
        Demo demo = start(options);
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            demo.stop();
            try {
                finished.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean passed;
        try {
            passed = demo.run(out, Duration.ofSeconds(2)).passed();
        } finally {
            demo.close();
            finished.countDown();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return; // Ctrl-C: the JVM is on its way out already
        }
        System.exit(passed ? 0 : 1);
    }
}
