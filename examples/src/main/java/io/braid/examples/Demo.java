package io.braid.examples;

import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.examples.bots.Bots;
import io.braid.examples.bots.BotsReport;
import io.braid.examples.chat.ChatService;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.monitor.MonitorService;
import io.braid.monitor.MonitorOptions;
import io.braid.examples.logic.LogicService;
import io.braid.runtime.Braid;
import io.braid.runtime.InMemoryControlPlane;
import java.io.PrintStream;
import java.net.BindException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * The whole product in one JVM: a gateway, three logic nodes, the chat service, the monitor and the bots, on the
 * embedded in-memory control plane or on Redis. It prints progress while the bots play and a
 * summary at the end, whose check is that every player was served by exactly one logic node (seen
 * both from the players' side and from the logic nodes' own records).
 */
public final class Demo implements AutoCloseable {
    public static final Setting LOGIC_NODES = new Setting("--logic-nodes", "DEMO_LOGIC_NODES", "3",
            "logic nodes to start");
    public static final List<Setting> SETTINGS = List.of(Bots.SECONDS, Bots.PLAYERS, NodeSettings.REDIS,
            NodeSettings.REDIS_CLUSTER, GatewayService.HTTP_PORT, GatewayService.HTTP_HOST, LOGIC_NODES,
            Bots.THINK_MILLIS, Bots.CHAT_PERCENT, LogicService.REWARD_SECONDS);

    private static final Duration READY_WITHIN = Duration.ofSeconds(20);

    /**
     * How the demo runs. {@code redisUri} and {@code redisCluster} null/empty: in memory.
     * {@code duration} zero: until {@link #stop()}.
     */
    public record Options(String redisUri, List<String> redisCluster, int players, Duration duration, Duration think,
                          int chatPercent, int logicNodes, String httpHost, int httpPort, Duration rewardAfter) {
        public Options {
            redisCluster = redisCluster == null ? List.of() : List.copyOf(redisCluster);
            if (logicNodes < 1) {
                throw new IllegalArgumentException("logicNodes must be at least 1, was " + logicNodes);
            }
        }

        /** In memory, the given players and seconds, a free HTTP port. */
        public static Options inMemory(int players, Duration duration) {
            return new Options(null, List.of(), players, duration, Duration.ofMillis(100), 2, 3, "127.0.0.1", 0,
                    Duration.ofSeconds(3));
        }

        public Options withRedis(String uri) {
            return new Options(uri, redisCluster, players, duration, think, chatPercent, logicNodes, httpHost, httpPort,
                    rewardAfter);
        }

        public Options withRewardAfter(Duration after) {
            return new Options(redisUri, redisCluster, players, duration, think, chatPercent, logicNodes, httpHost,
                    httpPort, after);
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
     * @param passed          the check: every player served by exactly one logic node, on both sides
     * @param lines           the printed summary
     */
    public record Summary(BotsReport bots, Map<String, Integer> servedPerNode, List<String> onSeveralNodes,
                          long chatPublished, boolean passed, List<String> lines) {
    }

    private final Options options;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final List<LogicService> logic = new ArrayList<>();
    private final InMemoryControlPlane plane;
    private ChatService chat;
    private MonitorService monitor;
    private GatewayService gateway;
    private volatile Bots bots;
    private volatile boolean stopRequested;

    private Demo(Options options) {
        this.options = options;
        this.plane = options.redisUri() == null && options.redisCluster().isEmpty()
                ? new InMemoryControlPlane("demo-" + UUID.randomUUID()) : null;
    }

    /** Starts every node and waits until the gateway sees them all. */
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
            LogicService node = LogicService.start(node("logic-" + i), options.rewardAfter());
            started.push(node);
            logic.add(node);
        }
        chat = ChatService.start(node("chat-1"));
        started.push(chat);
        try {
            gateway = GatewayService.start(node("gateway-1"), options.httpHost(), options.httpPort());
        } catch (IllegalStateException e) {
            if (!(e.getCause() instanceof BindException) || options.httpPort() == 0) {
                throw e;
            }
            // The port is taken (another demo?): any free one will do for the page.
            gateway = GatewayService.start(node("gateway-1"), options.httpHost(), 0);
        }
        started.push(gateway);
        try {
            monitor = MonitorService.start(node("monitor-1"), MonitorOptions.DEFAULT);
        } catch (RuntimeException e) {
            // Port 9999 is taken (another demo?): any free one will do for the dashboard.
            monitor = MonitorService.start(node("monitor-1"), MonitorOptions.DEFAULT.withPort(0));
        }
        started.push(monitor);
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        while (!ready()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the gateway does not see " + options.logicNodes()
                        + " ACTIVE logic nodes and a chat node after " + READY_WITHIN.toSeconds() + " s; it sees "
                        + gateway.braid().discover().nodes(LogicService.SERVICE));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling discovery's local view
        }
    }

    private boolean ready() {
        Set<String> ours = logic.stream().map(LogicService::nodeId).collect(Collectors.toSet());
        long active = gateway.braid().discover().nodes(LogicService.SERVICE).stream()
                .filter(n -> n.state() == NodeState.ACTIVE).map(Node::id).filter(ours::contains).count();
        return active == options.logicNodes() && !gateway.braid().discover().nodes(ChatService.SERVICE).isEmpty();
    }

    public String pageUrl() {
        return gateway.pageUrl();
    }

    /** Where the cluster dashboard is. */
    public String dashboardUrl() {
        return monitor.dashboardUrl();
    }

    public GatewayService gateway() {
        return gateway;
    }

    public List<LogicService> logic() {
        return List.copyOf(logic);
    }

    /** Asks the bots to log out now; {@link #run} then prints the summary and returns. */
    public void stop() {
        stopRequested = true;
        Bots running = bots;
        if (running != null) {
            running.stop();
        }
    }

    /** Runs the bots for the set time (or until {@link #stop()}), printing progress to {@code out}. */
    public Summary run(PrintStream out, Duration progressEvery) throws InterruptedException {
        URI ws = URI.create("ws://127.0.0.1:" + gateway.httpPort() + "/ws");
        Bots.Options botOptions = new Bots.Options(List.of(ws), options.players(), options.duration(), options.think(),
                options.chatPercent(), "bot-" + UUID.randomUUID().toString().substring(0, 4));
        out.printf("braid demo: %d logic nodes, 1 chat node, 1 gateway on %s; %d bots for %s%n", logic.size(),
                options.plane(), options.players(),
                options.duration().isZero() ? "as long as you like (Ctrl-C ends it)" : options.duration().toSeconds() + " s");
        out.printf("player page: %s  (log in, click, chat; the bots' chat shows up there too)%n", pageUrl());
        out.printf("dashboard:   %s  (nodes, leaders, links, call rates, topics; drain a node from there)%n",
                dashboardUrl());
        out.flush();
        bots = Bots.start(botOptions);
        if (stopRequested) {
            bots.stop();
        }
        long startedAt = System.nanoTime();
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
        Summary summary = summarize(bots.report(), Duration.ofNanos(System.nanoTime() - startedAt));
        out.println();
        summary.lines().forEach(out::println);
        out.flush();
        return summary;
    }

    private String logicOnline() {
        return logic.stream().map(l -> l.nodeId() + " " + l.playersOnline()).collect(Collectors.joining(", "));
    }

    private Summary summarize(BotsReport report, Duration ran) {
        Map<String, Integer> servedPerNode = new LinkedHashMap<>();
        Map<String, List<String>> nodesByToken = new HashMap<>();
        for (LogicService node : logic) {
            Set<String> tokens = node.tokensServed();
            servedPerNode.put(node.nodeId(), tokens.size());
            tokens.forEach(t -> nodesByToken.computeIfAbsent(t, k -> new ArrayList<>()).add(node.nodeId()));
        }
        List<String> onSeveral = nodesByToken.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .map(e -> e.getKey() + " " + e.getValue()).sorted().toList();
        boolean passed = report.everyPlayerOnExactlyOneNode() && onSeveral.isEmpty();
        List<String> lines = new ArrayList<>();
        lines.add(String.format("== summary: %d s on %s", ran.toSeconds(), options.plane()));
        lines.addAll(report.summaryLines().subList(0, report.summaryLines().size() - 1));
        lines.add("logic nodes' own records, players served: " + servedPerNode.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "))
                + (onSeveral.isEmpty() ? "; no token on two nodes" : "; tokens on two nodes: " + onSeveral));
        lines.add(String.format("chat: the chat service published %d lines; the gateway wrote %d to sockets",
                chat.published(), gateway.chatLinesDelivered()));
        lines.add(report.summaryLines().get(report.summaryLines().size() - 1));
        lines.add("RESULT: " + (passed ? "PASS" : "FAIL"));
        return new Summary(report, servedPerNode, onSeveral, chat.published(), passed, lines);
    }

    @Override
    public void close() {
        Bots running = bots;
        if (running != null) {
            running.close();
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
                settings.getSeconds(LogicService.REWARD_SECONDS));
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
