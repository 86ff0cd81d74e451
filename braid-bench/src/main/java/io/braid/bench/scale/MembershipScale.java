package io.braid.bench.scale;

import io.braid.bench.core.Closing;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.Role;
import io.braid.discover.internal.RedisDiscover;
import io.braid.elector.internal.RedisElector;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import io.braid.testkit.TcpProxy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Discovery and election with many nodes on one Redis: {@code nodes} light nodes in {@code services}
 * services, each a {@link RedisDiscover} that registers its node and a {@link RedisElector} for its
 * service, with the default timings (heartbeat 1 s, ttl 3 s, resync 1 s; lease 3 s, renewal 1 s).
 * They share {@value #CONNECTORS} {@link RedisConnector}s (one command connection each, services
 * dealt round robin; each discover has its own pub/sub connection) with a command timeout of
 * {@link #COMMAND_TIMEOUT} (this JVM does the client work of every node on one core, so a reply
 * can wait longer than a node's own process would let it), and one scheduler of two threads;
 * except the victims: each has its own connector through a {@link TcpProxy}, and is the leader of
 * its service. The CPU this JVM spends per node is measured too: it is what each node's process
 * would spend on discovery and election.
 *
 * <p>Steady state: {@code INFO commandstats} and {@code INFO cpu} deltas over a window, once every
 * view holds every node and every service has its leader; commands count those run inside scripts.
 * A crash: the victim's proxy black-holes its connections (no deregistration, no close, heartbeats
 * and renewals stop arriving, as when the process dies or its host drops off the network); the
 * figure is the time until every other node's watcher has heard REMOVED of the victim, and until a
 * new leader of its service leads.
 */
final class MembershipScale {
    static final int CONNECTORS = 4;
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);

    /** What one run measured; times in milliseconds, one per crash. */
    record Result(int nodes, int services, double commandsPerNodePerSecond, Map<String, Double> byCommand,
            double redisCpuShare, double clientCpuMicrosPerNodePerSecond, double[] removedEverywhereMillis, double[] removedFirstMillis,
            double[] newLeaderMillis) {
    }

    private MembershipScale() {
    }

    static Result run(RedisServer redis, int nodes, int services, int victims, Duration steady) throws Exception {
        if (nodes % services != 0 || victims > services) {
            throw new IllegalArgumentException(nodes + " nodes in " + services + " services, " + victims + " victims");
        }
        int perService = nodes / services;
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2,
                Thread.ofPlatform().name("scale-membership-", 0).daemon().factory());
        opened.push(scheduler::shutdownNow);
        try {
            RedisConnector[] shared = new RedisConnector[CONNECTORS];
            for (int c = 0; c < CONNECTORS; c++) {
                shared[c] = push(opened, RedisConnector.connect(redis.uri(), COMMAND_TIMEOUT));
            }
            RedisProbe probe = push(opened, redis.probe());
            List<RedisDiscover> discovers = new ArrayList<>();
            List<RedisElector> electors = new ArrayList<>();
            List<Node> all = new ArrayList<>();
            TcpProxy[] proxies = new TcpProxy[victims];
            int[] victimIndex = new int[victims];
            for (int s = 0; s < services; s++) {
                String service = "svc-" + s;
                for (int k = 0; k < perService; k++) {
                    Node node = Node.of(service + "-node-" + k, service, "127.0.0.1", 20_000 + all.size(), 100);
                    RedisConnector connector = shared[s % CONNECTORS];
                    boolean victim = k == 0 && s < victims;
                    if (victim) {
                        proxies[s] = push(opened, TcpProxy.to(redis.host(), redis.port()));
                        connector = push(opened, RedisConnector.connect(proxies[s].uri("redis"), COMMAND_TIMEOUT));
                        victimIndex[s] = all.size();
                    }
                    RedisDiscover discover = push(opened, RedisDiscover.builder(connector).scheduler(scheduler).build());
                    discover.register(node);
                    RedisElector elector = push(opened, RedisElector.builder(connector).service(service)
                            .nodeId(node.id()).scheduler(scheduler).build());
                    if (victim) { // the victim leads its service: its crash needs a new leader
                        Await.until(Duration.ofSeconds(30), node.id() + " leads", elector::isLeader);
                    }
                    discovers.add(discover);
                    electors.add(elector);
                    all.add(node);
                }
            }
            Await.until(Duration.ofSeconds(120), () -> "every view holds all " + nodes + " nodes",
                    () -> discovers.stream().allMatch(d -> everyService(d, services, perService)));
            Await.until(Duration.ofSeconds(60), "every service has one leader",
                    () -> leaders(electors) == services);

            Map<String, Long> callsBefore = probe.commandCalls();
            double cpuBefore = cpuSeconds(probe);
            long clientCpuBefore = processCpuNanos();
            long start = System.nanoTime();
            Thread.sleep(steady.toMillis()); // the measured window: nothing to await, the cluster just runs
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, Long> callsAfter = probe.commandCalls();
            double cpuShare = (cpuSeconds(probe) - cpuBefore) / seconds;
            double clientCpu = (processCpuNanos() - clientCpuBefore) / 1e3 / seconds / nodes;
            Map<String, Double> byCommand = new LinkedHashMap<>();
            double total = 0;
            for (Map.Entry<String, Long> command : callsAfter.entrySet()) {
                long calls = command.getValue() - callsBefore.getOrDefault(command.getKey(), 0L);
                if (calls > 0 && !command.getKey().equals("info")) {
                    byCommand.put(command.getKey(), calls / seconds / nodes);
                    total += calls / seconds / nodes;
                }
            }

            double[] everywhere = new double[victims];
            double[] first = new double[victims];
            double[] leader = new double[victims];
            for (int v = 0; v < victims; v++) {
                Node victim = all.get(victimIndex[v]);
                AtomicLongArray heard = new AtomicLongArray(nodes);
                AtomicLong led = new AtomicLong();
                List<AutoCloseable> watches = new ArrayList<>();
                int watchers = 0;
                for (int i = 0; i < nodes; i++) {
                    if (crashedSoFar(victimIndex, v, i)) { // this victim and those before it hear nothing
                        continue;
                    }
                    watchers++;
                    int watcher = i;
                    watches.add(discovers.get(i).watch(event -> {
                        if (event.type() == DiscoverEvent.Type.REMOVED && event.node().id().equals(victim.id())) {
                            heard.compareAndSet(watcher, 0, System.nanoTime());
                        }
                    }));
                    if (all.get(i).service().equals(victim.service())) {
                        watches.add(electors.get(i).onChange(role -> {
                            if (role == Role.LEADER) {
                                led.compareAndSet(0, System.nanoTime());
                            }
                        }));
                    }
                }
                long crashed = System.nanoTime();
                proxies[v].blackhole();
                int expected = watchers;
                Await.until(Duration.ofSeconds(60), () -> "every watcher hears " + victim.id() + " removed",
                        () -> countHeard(heard) == expected);
                Await.until(Duration.ofSeconds(60), () -> "a new leader of " + victim.service(), () -> led.get() != 0);
                long[] times = new long[nodes];
                for (int i = 0; i < nodes; i++) {
                    times[i] = heard.get(i);
                }
                long last = Arrays.stream(times).max().orElseThrow();
                long earliest = Arrays.stream(times).filter(t -> t != 0).min().orElseThrow();
                everywhere[v] = (last - crashed) / 1e6;
                first[v] = (earliest - crashed) / 1e6;
                leader[v] = (led.get() - crashed) / 1e6;
                for (AutoCloseable watch : watches) {
                    watch.close();
                }
                proxies[v].close(); // the victim's own closing then fails fast instead of waiting on a black hole
            }
            return new Result(nodes, services, total, byCommand, cpuShare, clientCpu, everywhere, first, leader);
        } finally {
            Closing.closeAll(opened);
        }
    }

    private static boolean crashedSoFar(int[] victimIndex, int v, int i) {
        for (int u = 0; u <= v; u++) {
            if (victimIndex[u] == i) {
                return true;
            }
        }
        return false;
    }

    private static boolean everyService(RedisDiscover discover, int services, int perService) {
        for (int s = 0; s < services; s++) {
            if (discover.nodes("svc-" + s).size() != perService) {
                return false;
            }
        }
        return true;
    }

    private static int leaders(List<RedisElector> electors) {
        int leading = 0;
        for (RedisElector elector : electors) {
            if (elector.isLeader()) {
                leading++;
            }
        }
        return leading;
    }

    private static int countHeard(AtomicLongArray heard) {
        int count = 0;
        for (int i = 0; i < heard.length(); i++) {
            if (heard.get(i) != 0) {
                count++;
            }
        }
        return count;
    }

    /** This JVM's CPU time so far. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double cpuSeconds(RedisProbe probe) {
        String info = probe.info("cpu");
        return LinkScale.fieldDouble(info, "used_cpu_sys") + LinkScale.fieldDouble(info, "used_cpu_user");
    }

    private static <T extends AutoCloseable> T push(Deque<AutoCloseable> opened, T resource) {
        opened.push(resource);
        return resource;
    }
}
