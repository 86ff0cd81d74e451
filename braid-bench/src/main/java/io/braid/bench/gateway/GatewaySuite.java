package io.braid.bench.gateway;

import io.braid.api.Node;
import io.braid.bench.core.Comparison;
import io.braid.bench.core.Goals;
import io.braid.bench.core.Load;
import io.braid.bench.core.Report;
import io.braid.bench.core.Row;
import io.braid.bench.core.Runner;
import io.braid.bench.core.Sample;
import io.braid.bench.core.Suite;
import io.braid.bench.core.ThisJvm;
import io.braid.bench.core.Trial;
import io.braid.bench.core.Usage;
import io.braid.bench.core.Window;
import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.StaticDiscover;
import io.braid.rpc.internal.Transports;
import io.netty.channel.EventLoopGroup;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The gateway of issue 17 measured (issue 18): sessions one gateway holds and its heap per session,
 * a client's call through the gateway to a logic node and back against a direct braid call of the
 * same method, pushes per second from the logic node to every session, and the resume of every
 * session after its gateway crashed. Gateways and the logic node run in one server JVM
 * ({@link GatewayServerMain}, one in-memory control plane); the clients are {@link GatewayClient}s
 * over TCP sharing one event-loop thread in the bench JVM.
 */
public final class GatewaySuite implements Suite {
    public static final String GROUP = "gateway";
    static final String DIRECT = "direct braid invoke";
    static final String THROUGH = "client.call through the gateway";
    static final String THROUGH_MANY = "client.call through the gateway, 64 clients";
    static final int IN_FLIGHT = 64;
    static final int PAYLOAD = 64;
    /** The goals. */
    static final double MAX_BYTES_PER_SESSION = 10 * 1024;
    static final double MAX_LATENCY_RATIO = 1.3;
    private static final int LOGINS_AT_ONCE = 256;
    private static final Duration MAX_MEASURE = Duration.ofSeconds(2);
    private static final Duration REPEAT_WARMUP = Duration.ofMillis(500);
    private static final Duration RESUME_DEADLINE = Duration.ofSeconds(90);

    @Override
    public String name() {
        return GROUP;
    }

    /** The token (and credentials) of session {@code i}. */
    static String token(int i) {
        return "p" + i;
    }

    /** Sessions held and pushed to: 10,000, or 200 in the smoke window. */
    static int sessions(Window window) {
        return window.sized(10_000, 200);
    }

    /** Sessions on the gateway that crashes: 1,000, at most {@link #sessions}. */
    static int resumeSessions(Window window) {
        return Math.min(1_000, sessions(window));
    }

    static String sessionsCell(int sessions) {
        return String.format(Locale.ROOT, "%,d sessions on one gateway", sessions);
    }

    /** One client connection with 64 calls in flight, as the direct call's one connection: the goal's cell. */
    static String roundTripCell() {
        return "1x64 64 B";
    }

    /** 64 clients (64 connections to the gateway), one call in flight each: what 64 players cost. */
    static String manyClientsCell() {
        return "64x1 64 B";
    }

    static String pushCell(int sessions) {
        return String.format(Locale.ROOT, "push 64 in flight, 64 B, %,d sessions", sessions);
    }

    static String resumeCell(int sessions) {
        return String.format(Locale.ROOT, "%,d sessions, their gateway crashed", sessions);
    }

    @Override
    public void run(Report report, Window window) throws Exception {
        report.section(GROUP, "Gateway: sessions, a call through the gateway vs a direct call, pushes, resume");
        int sessions = sessions(window);
        int resuming = resumeSessions(window);
        Window capped = window.capped(window.warmup(), MAX_MEASURE);
        EventLoopGroup group = Transports.newGroup(1, "gateway-bench-clients"); // epoll, as the direct client
        try (GatewayServer server = GatewayServer.start(); Players players = new Players(group, server, sessions)) {
            // 1. sessions held and heap per session
            long heapBefore = server.heap()[0];
            Sample logins = players.logIn();
            long[] heapAfter = server.heap();
            double perSession = (heapAfter[0] - heapBefore) / (double) sessions;
            report.add(List.of(alone(sessionsCell(sessions), "log in (256 at once)", logins)));

            // 2. a call through the gateway vs a direct call of the same method
            roundTrip(report, capped, server, players);

            // 3. pushes to every session
            Pushes pushes = players.pushes(server, capped);
            report.add(List.of(alone(pushCell(sessions), "GatewayPush from the logic node", pushes.sample())));

            // 4. resume after the gateway crashed
            Resume resume = players.crashAndResume(server, resuming);
            report.add(List.of(alone(resumeCell(resuming), "crash to RESUMED on the other gateway", resume.sample())));

            report.note(GROUP, note(capped, sessions, heapAfter[1], perSession, pushes, resume, resuming));
            goals(report, sessions, heapAfter[1], perSession);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    private static void roundTrip(Report report, Window capped, GatewayServer server, Players players)
            throws Exception {
        byte[] payload = new byte[PAYLOAD];
        // 1x64: one client (player p0) with 64 calls in flight against the direct call with its token.
        try (Load through = players.pipelinedLoad(payload);
                Load direct = new DirectLoad(server.logicPort(), 1, payload)) {
            prime(through); // the gateway's call links the token to the logic node first
            prime(direct);
            Comparison comparison = new Comparison(GROUP, roundTripCell(), DIRECT, trial(direct, server))
                    .subject(THROUGH, trial(through, server));
            report.add(comparison.run(capped));
        }
        // 64x1: 64 clients, one call in flight each, against the direct call with their 64 tokens.
        try (Load through = players.callLoad(IN_FLIGHT, payload);
                Load direct = new DirectLoad(server.logicPort(), IN_FLIGHT, payload)) {
            prime(through);
            prime(direct);
            Comparison comparison = new Comparison(GROUP, manyClientsCell(), DIRECT, trial(direct, server))
                    .subject(THROUGH_MANY, trial(through, server));
            report.add(comparison.run(capped));
        }
    }

    private static Trial trial(Load load, GatewayServer server) {
        int[] runs = {0};
        return w -> Runner.closedLoop(load, IN_FLIGHT, runs[0]++ == 0 ? w.warmup() : min(w.warmup(), REPEAT_WARMUP),
                w.measure(), Runner.Sides.against(server.meter()));
    }

    /** What limits a call through the gateway against the direct call (README, the round trip profiled). */
    static final Goals.Why LAYOUT_WHY = Goals.why("the layout: per call through the gateway the one server core runs "
            + "the gateway's front end, its node's RPC client and the logic node, where the direct call puts only "
            + "the logic node there, about twice the direct call's CPU on that core",
            "gateway › The round trip through the gateway, profiled");
    static final Goals.Why SESSIONS_WHY = Goals.why("each session is a TCP connection at both ends: one JVM holding "
            + "both ends of 10,000 needs 20,000 file descriptors, the limit here, so the gateway has its own JVM; a "
            + "session missing means a login failed (the note gives the sessions A holds)", "gateway");
    static final Goals.Why HEAP_WHY = Goals.why("a session costs its channel and pipeline, the session, its durable "
            + "record in the in-memory store and the token's link; the figure is a difference of two used-heap "
            + "readings after GC, noisy at small counts", "gateway");

    static void goals(Report report, int sessions, long held, double perSession) {
        Goals.atLeast(report, "Gateway: sessions held on one gateway", held, sessions, Goals.Unit.COUNT,
                SESSIONS_WHY);
        Goals.atMost(report, "Gateway: heap per session on the gateway's JVM", perSession, MAX_BYTES_PER_SESSION,
                Goals.Unit.BYTES, HEAP_WHY);
        Optional<Row> through = Goals.row(report, GROUP, roundTripCell(), THROUGH);
        String p50 = "Gateway " + roundTripCell() + ": p50 through the gateway / direct call";
        String p99 = "Gateway " + roundTripCell() + ": p99 through the gateway / direct call";
        if (through.isEmpty()) {
            Goals.unchecked(report, p50, "the cell did not run");
            Goals.unchecked(report, p99, "the cell did not run");
            return;
        }
        Row row = through.get();
        Goals.atMost(report, p50, row.sample().p50Micros() / row.baselineSample().p50Micros(), MAX_LATENCY_RATIO,
                Goals.Unit.RATIO, LAYOUT_WHY);
        Goals.atMost(report, p99, row.p99Ratio(), MAX_LATENCY_RATIO, Goals.Unit.RATIO, LAYOUT_WHY);
    }

    private static String note(Window capped, int sessions, long held, double perSession, Pushes pushes,
            Resume resume, int resuming) {
        return String.format(Locale.ROOT, """
                One server JVM (on the server core) holds an in-memory control plane with a logic node (`%s` \
                echoes its request, a blocking handler) and gateways A and B (TCP, one event-loop thread each, the \
                per-player rate limits raised out of the way); the bench JVM runs %,d `GatewayClient`s (TCP, one \
                shared event-loop thread), each logged in as its own player on A. **Sessions**: %,d held on A; \
                used heap of the server JVM after two full GCs, before and after the logins: %,.0f B per session \
                (everything a session costs there: channel, pipeline, session, record and link in the in-memory \
                store). **Round trip**: `1x64`: one client keeps 64 `client.call("%s", 64 B)` in flight on its \
                one connection; `64x1`: 64 of the clients keep one each. The baseline of both is an `RpcClient` \
                (one I/O thread, one connection) in the bench JVM invoking the same method on the logic node \
                directly, 64 in flight, with the same tokens (the first player's in `1x64`, the 64 players' in \
                `64x1`); median of %d interleaved %.1f s windows. **Pushes**: the logic node keeps 64 `GatewayPush.push` in flight, tokens round robin \
                over all %,d sessions, for %.1f s after an unmeasured run of %.1f s; the row counts pushes the clients \
                received per second (from the first push sent until the last accepted one arrived) and the \
                latency from the push's send (a `System.nanoTime()` in the payload; one machine, one monotonic \
                clock) to the client's push listener; %,d accepted, %,d refused. The 64 in flight bound the pushes \
                the gateway has not yet accepted (logged and handed to the socket), not those on their way to a \
                client: when the clients' one event-loop thread reads slower than the gateway accepts, a backlog \
                builds in the sockets and shows in the latency. **Resume**: every session but \
                %,d logs out; gateway A crashes (`Gateway.crash()`, then its node closes) and the clients reconnect \
                (reconnect 100 ms..2 s) to A, then B; latency from the crash command to each client's RESUMED \
                event: %,d resumed, %,d logged in afresh (RELOGGED), %,d not back within %d s.""",
                GatewayServerMain.ROUTE, sessions, held, perSession, GatewayServerMain.ROUTE, capped.repeats(),
                capped.measure().toMillis() / 1e3, sessions, capped.measure().toMillis() / 1e3,
                capped.warmup().toMillis() / 1e3, pushes.accepted(), pushes.refused(), resuming, resume.resumed(),
                resume.relogged(), resume.missing(), RESUME_DEADLINE.toSeconds());
    }

    /** A row measured alone: its own baseline. */
    static Row alone(String cell, String subject, Sample sample) {
        return new Row(GROUP, cell, subject, subject, sample, sample);
    }

    static Sample sample(double opsPerSecond, Histogram latency, long errors, Usage client, Usage server, long ops) {
        double perOp = Math.max(1, ops);
        double clientCpu = client.cpuNanos() == Usage.UNKNOWN ? Double.NaN : client.cpuNanos();
        double serverCpu = server.cpuNanos() == Usage.UNKNOWN ? 0 : server.cpuNanos();
        return new Sample(opsPerSecond, micros(latency, 50), micros(latency, 99), micros(latency, 99.9), errors,
                client.allocatedBytes() == Usage.UNKNOWN ? Double.NaN : client.allocatedBytes() / perOp,
                server.allocatedBytes() == Usage.UNKNOWN ? Double.NaN : server.allocatedBytes() / perOp,
                (clientCpu + serverCpu) / 1e3 / perOp);
    }

    private static double micros(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1e3;
    }

    private static void prime(Load load) throws Exception {
        CompletableFuture<Void> first = new CompletableFuture<>();
        load.start(error -> {
            if (error == null) {
                first.complete(null);
            } else {
                first.completeExceptionally(error);
            }
        });
        first.get(30, TimeUnit.SECONDS);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** The push cell's outcome: the row, and the pushes the gateway accepted and refused in it. */
    record Pushes(Sample sample, long accepted, long refused) {
    }

    /** The resume cell's outcome. */
    record Resume(Sample sample, long resumed, long relogged, long missing) {
    }

    /** The direct call: braid's {@code invoke} of the logic node's method with the players' tokens. */
    private static final class DirectLoad implements Load {
        private final StaticDiscover discover;
        private final RpcClient client;
        private final byte[] payload;
        private final int tokens;
        private final AtomicLong next = new AtomicLong();

        DirectLoad(int logicPort, int tokens, byte[] payload) {
            discover = StaticDiscover.of(Node.of("logic-1", GatewayServerMain.LOGIC, GatewayServerMain.HOST,
                    logicPort, 100));
            client = RpcClient.builder().discover(discover).ioThreads(1).connectionsPerPeer(1).build();
            this.payload = payload;
            this.tokens = tokens;
        }

        @Override
        public void start(Done done) {
            String token = token((int) (next.getAndIncrement() % tokens));
            client.invoke(GatewayServerMain.LOGIC, GatewayServerMain.ECHO, token, payload)
                    .whenComplete((answer, error) -> done.done(error));
        }

        @Override
        public void close() {
            client.close();
            discover.close();
        }
    }

    /** The clients, one per player, and what they received. */
    private static final class Players implements AutoCloseable {
        private final List<GatewayClient> clients = new ArrayList<>();
        private final AtomicLong pushesReceived = new AtomicLong();
        private final Recorder pushLatency = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
        /** Per client: nanoTime of its first RESUMED (positive) or RELOGGED (negated) after the crash; 0 none. */
        private final AtomicLongArray backAt;
        private volatile boolean crashed;

        Players(EventLoopGroup group, GatewayServer server, int count) {
            backAt = new AtomicLongArray(count);
            for (int i = 0; i < count; i++) {
                int index = i;
                clients.add(GatewayClient.builder()
                        .addresses(List.of(server.gatewayA(), server.gatewayB()))
                        .transport(Transport.TCP)
                        .credentials(token(i).getBytes(StandardCharsets.UTF_8))
                        .eventLoopGroup(group)
                        .reconnect(Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofMinutes(2))
                        .connectTimeout(Duration.ofSeconds(30))
                        .callTimeout(Duration.ofSeconds(30))
                        .onPush((seq, payload) -> {
                            if (payload.length >= Long.BYTES) {
                                long sent = ByteBuffer.wrap(payload).getLong();
                                pushLatency.recordValue(Math.min(Math.max(0, System.nanoTime() - sent),
                                        TimeUnit.SECONDS.toNanos(60)));
                            }
                            pushesReceived.incrementAndGet();
                        })
                        .onEvent(event -> onEvent(index, event))
                        .build());
            }
        }

        private void onEvent(int index, ClientEvent event) {
            if (!crashed) {
                return;
            }
            long now = System.nanoTime();
            if (event.type() == ClientEvent.Type.RESUMED) {
                backAt.compareAndSet(index, 0, now);
            } else if (event.type() == ClientEvent.Type.RELOGGED) {
                backAt.compareAndSet(index, 0, -now);
            }
        }

        /** Logs every client in, {@value #LOGINS_AT_ONCE} at once; throws if one fails. */
        Sample logIn() throws Exception {
            return forEach(clients, GatewayClient::connect);
        }

        private Sample forEach(List<GatewayClient> some, Function<GatewayClient, CompletableFuture<?>> step)
                throws Exception {
            Semaphore permits = new Semaphore(LOGINS_AT_ONCE);
            Recorder latency = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
            AtomicLong failed = new AtomicLong();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            Usage client0 = ThisJvm.METER.read();
            long start = System.nanoTime();
            for (GatewayClient client : some) {
                permits.acquire();
                long began = System.nanoTime();
                step.apply(client).whenComplete((ok, error) -> {
                    if (error == null) {
                        latency.recordValue(Math.min(System.nanoTime() - began, TimeUnit.SECONDS.toNanos(60)));
                    } else {
                        failed.incrementAndGet();
                        errors.add(error);
                    }
                    permits.release();
                });
            }
            if (!permits.tryAcquire(LOGINS_AT_ONCE, 120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("logins did not end within 120 s");
            }
            long nanos = System.nanoTime() - start;
            if (!errors.isEmpty()) {
                throw new IllegalStateException(failed.get() + " of " + some.size() + " failed, first: "
                        + errors.get(0), errors.get(0));
            }
            Usage client = ThisJvm.METER.read().minus(client0);
            return sample(some.size() * 1e9 / nanos, latency.getIntervalHistogram(), failed.get(), client,
                    new Usage(Usage.UNKNOWN, Usage.UNKNOWN), some.size());
        }

        /** The first client alone, with as many calls in flight as the runner drives (64). */
        Load pipelinedLoad(byte[] payload) {
            GatewayClient client = clients.get(0);
            return done -> client.call(GatewayServerMain.ROUTE, payload).whenComplete((answer, error) -> done.done(error));
        }

        /** 64 clients, each with one call in flight when driven 64 at a time. */
        Load callLoad(int count, byte[] payload) {
            ConcurrentLinkedQueue<GatewayClient> idle = new ConcurrentLinkedQueue<>(clients.subList(0, count));
            return done -> {
                GatewayClient client = idle.poll();
                if (client == null) {
                    done.done(new IllegalStateException("more calls in flight than clients"));
                    return;
                }
                client.call(GatewayServerMain.ROUTE, payload).whenComplete((answer, error) -> {
                    idle.add(client);
                    done.done(error);
                });
            };
        }

        /** An unmeasured push run, then a measured one; pushes received per second and their latency. */
        Pushes pushes(GatewayServer server, Window window) throws InterruptedException {
            long[] warm = server.push(clients.size(), IN_FLIGHT, window.warmup().toMillis(), PAYLOAD);
            if (warm[0] == 0) {
                throw new IllegalStateException("no push accepted in the warm-up (" + warm[1] + " refused)");
            }
            long before = pushesReceived.get();
            pushLatency.getIntervalHistogram();
            Usage client0 = ThisJvm.METER.read();
            Usage server0 = server.meter().read();
            long start = System.nanoTime();
            long[] counts = server.push(clients.size(), IN_FLIGHT, window.measure().toMillis(), PAYLOAD);
            awaitReceived(before, counts[0]);
            long nanos = System.nanoTime() - start;
            long received = pushesReceived.get() - before;
            return new Pushes(sample(received * 1e9 / nanos, pushLatency.getIntervalHistogram(), counts[1],
                    ThisJvm.METER.read().minus(client0), server.meter().read().minus(server0), received), counts[0],
                    counts[1]);
        }

        /** Waits (at most 30 s) until {@code count} pushes arrived since {@code before}. */
        private void awaitReceived(long before, long count) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (pushesReceived.get() - before < count && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(5);
            }
        }

        /**
         * Logs out every client but the first {@code keep}, crashes gateway A, and waits until each
         * kept client is back (RESUMED or RELOGGED) or the deadline passed.
         */
        Resume crashAndResume(GatewayServer server, int keep) throws Exception {
            forEach(clients.subList(keep, clients.size()), GatewayClient::logout);
            crashed = true;
            long crashAt = System.nanoTime();
            server.crashA();
            long deadline = crashAt + RESUME_DEADLINE.toNanos();
            while (System.nanoTime() < deadline && back(keep) < keep) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(120), 3);
            long resumed = 0;
            long relogged = 0;
            long last = crashAt;
            for (int i = 0; i < keep; i++) {
                long at = backAt.get(i);
                if (at > 0) {
                    resumed++;
                    latency.recordValue(Math.min(at - crashAt, TimeUnit.SECONDS.toNanos(120)));
                    last = Math.max(last, at);
                } else if (at < 0) {
                    relogged++;
                    last = Math.max(last, -at);
                }
            }
            long missing = keep - resumed - relogged;
            double seconds = Math.max(1, last - crashAt) / 1e9;
            Sample sample = sample(resumed / seconds, latency, relogged + missing, new Usage(Usage.UNKNOWN,
                    Usage.UNKNOWN), new Usage(Usage.UNKNOWN, Usage.UNKNOWN), resumed);
            return new Resume(sample, resumed, relogged, missing);
        }

        private int back(int keep) {
            int back = 0;
            for (int i = 0; i < keep; i++) {
                if (backAt.get(i) != 0) {
                    back++;
                }
            }
            return back;
        }

        @Override
        public void close() {
            for (GatewayClient client : clients) {
                client.close();
            }
        }
    }
}
