package io.braid.bench.limits;

import io.braid.bench.core.Comparison;
import io.braid.bench.core.Pinning;
import io.braid.bench.core.Report;
import io.braid.bench.core.Sample;
import io.braid.bench.core.Suite;
import io.braid.bench.core.Trial;
import io.braid.bench.core.Window;
import io.braid.bench.rpc.EchoCell;
import io.braid.bench.rpc.EchoComparisons;
import io.braid.bench.rpc.EchoSubject;
import io.braid.bench.rpc.ServerKind;
import io.braid.bench.rpc.ServerProcess;
import io.braid.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What this machine allows at all, the ceilings the other sections are read against: the bare
 * Netty length-prefixed echo at 1x1, 1x64 and 4x16 (64 B), and {@code redis-benchmark} PING and
 * XADD, without and with {@code -P 16}, against one {@code redis-server} on the server core.
 */
public final class LimitsSuite implements Suite {
    public static final String GROUP = "limits";
    /** Connections redis-benchmark opens: as many requests in flight as the 1x64 RPC cells, unpipelined. */
    static final int REDIS_CLIENTS = 64;
    static final int PIPELINE = 16;
    private static final Duration MAX_MEASURE = Duration.ofSeconds(2);
    private static final Duration MAX_REDIS_RUN = Duration.ofSeconds(2);

    @Override
    public String name() {
        return GROUP;
    }

    @Override
    public void run(Report report, Window window) throws Exception {
        report.section(GROUP, "Limits: bare Netty echo and redis-benchmark on this machine");
        EchoComparisons comparisons = new EchoComparisons(window, MAX_MEASURE);
        try (ServerProcess server = ServerProcess.start(ServerKind.NETTY_ECHO)) {
            EchoSubject netty = EchoSubject.nettyEcho("netty echo", server);
            for (EchoCell cell : List.of(new EchoCell(1, 1, 64), new EchoCell(1, 64, 64), new EchoCell(4, 16, 64))) {
                report.add(comparisons.run(GROUP, cell, List.of(netty)));
            }
        }
        report.note(GROUP, String.format(Locale.ROOT, """
                Bare Netty echo: the same server JVM and client as the RPC section's baseline (one event-loop \
                thread each side), median of %d windows of %.1f s.""", comparisons.window().repeats(),
                comparisons.window().measure().toMillis() / 1e3));
        Optional<Path> benchmark = RedisBenchmark.onPath();
        if (benchmark.isEmpty()) {
            report.note(GROUP, "redis-benchmark is not on the PATH: its rows are missing from this run.");
            return;
        }
        Duration run = window.measure().compareTo(MAX_REDIS_RUN) < 0 ? window.measure() : MAX_REDIS_RUN;
        try (RedisServer redis = RedisServer.start()) {
            boolean pinned = Pinning.toServerCore(redis.pid());
            RedisBenchmark tool = new RedisBenchmark(benchmark.get(), redis.host(), redis.port(), redis.pid());
            for (int pipeline : new int[] {1, PIPELINE}) {
                String cell = REDIS_CLIENTS + " clients" + (pipeline > 1 ? " -P " + pipeline : "");
                Comparison comparison = new Comparison(GROUP, "redis-benchmark " + cell, "PING",
                        sized(tool, pipeline, run, List.of("PING")))
                        .subject("XADD", sized(tool, pipeline, run, List.of("XADD", "bench-stream", "*", "f", "v")));
                report.add(comparison.run(window));
            }
            report.note(GROUP, String.format(Locale.ROOT, """
                    %s (from the PATH), %d clients, each run sized to last about %.1f s, median \
                    of %d runs; one redis-server (no persistence)%s, redis-benchmark on the load core. XADD \
                    appends `f v` to one stream with an automatic id. No p99.9 or allocation from \
                    redis-benchmark; CPU µs/op counts redis-benchmark and redis-server.""",
                    tool.version(), REDIS_CLIENTS, run.toMillis() / 1e3, window.repeats(),
                    pinned ? " on the server core" : ""));
        }
    }

    /**
     * A trial that first calibrates with a short run, then sizes each run (redis-benchmark counts
     * requests, not seconds) from the rate of the previous one.
     */
    private static Trial sized(RedisBenchmark tool, int pipeline, Duration run, List<String> command) {
        double[] rate = {Double.NaN};
        return window -> {
            if (Double.isNaN(rate[0])) {
                rate[0] = tool.run(REDIS_CLIENTS, pipeline, pipeline > 1 ? 20_000 : 2_000, command).opsPerSecond();
            }
            long requests = Math.max(1_000, (long) (rate[0] * run.toNanos() / 1e9));
            Sample sample = tool.run(REDIS_CLIENTS, pipeline, requests, command);
            rate[0] = sample.opsPerSecond();
            return sample;
        };
    }
}
