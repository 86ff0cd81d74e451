package io.braid.bench.limits;

import io.braid.bench.core.ProcessCpu;
import io.braid.bench.core.Sample;
import io.braid.bench.core.Usage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the {@code redis-benchmark} binary from the PATH against one Redis and turns its
 * {@code --csv} line into a {@link Sample}: requests per second, p50 and p99 (redis-benchmark
 * gives no p99.9), and CPU µs per request of redis-benchmark plus redis-server. redis-benchmark's
 * CPU time comes from its shell's {@code times} (children's user + system time), redis-server's
 * from /proc. Allocation does not apply (C programs): NaN.
 */
final class RedisBenchmark {
    private static final Pattern TIMES = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s");
    private static final long RUN_TIMEOUT_SECONDS = 120;

    private final Path binary;
    private final String host;
    private final int port;
    private final Usage.Meter server;

    RedisBenchmark(Path binary, String host, int port, long serverPid) {
        this.binary = binary;
        this.host = host;
        this.port = port;
        this.server = ProcessCpu.of(serverPid);
    }

    /** The redis-benchmark on the PATH, if there is one. */
    static Optional<Path> onPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "redis-benchmark");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** What {@code redis-benchmark --version} says, e.g. {@code redis-benchmark 7.0.15}. */
    String version() {
        try {
            Process process = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            process.waitFor(10, TimeUnit.SECONDS);
            return output.isEmpty() ? binary.toString() : output;
        } catch (IOException e) {
            return binary.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return binary.toString();
        }
    }

    /** One run of {@code requests} requests of {@code command} from {@code clients} connections. */
    Sample run(int clients, int pipeline, long requests, List<String> command) throws IOException,
            InterruptedException {
        List<String> line = new ArrayList<>(List.of("bash", "-c", "\"$@\"; status=$?; times; exit $status",
                "redis-benchmark", binary.toString(), "-h", host, "-p", Integer.toString(port),
                "-c", Integer.toString(clients), "-P", Integer.toString(pipeline), "-n", Long.toString(requests),
                "--csv"));
        line.addAll(command);
        Usage server0 = server.read();
        Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("redis-benchmark did not finish in " + RUN_TIMEOUT_SECONDS + " s");
        }
        Usage serverUsed = server.read().minus(server0);
        if (process.exitValue() != 0) {
            throw new IllegalStateException("redis-benchmark failed (exit " + process.exitValue() + "): " + output);
        }
        double serverCpuSeconds = serverUsed.cpuNanos() == Usage.UNKNOWN ? Double.NaN : serverUsed.cpuNanos() / 1e9;
        return parse(output, requests, serverCpuSeconds);
    }

    /**
     * Reads redis-benchmark's {@code --csv} result line and the {@code times} lines after it.
     *
     * @throws IllegalStateException if there is no result line
     */
    static Sample parse(String output, long requests, double serverCpuSeconds) {
        String[] csv = null;
        List<Double> times = new ArrayList<>();
        for (String text : output.split("\\R")) {
            Matcher m = TIMES.matcher(text.strip());
            if (m.matches()) {
                times.add(Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2))
                        + Long.parseLong(m.group(3)) * 60 + Double.parseDouble(m.group(4)));
            } else if (text.startsWith("\"") && !text.startsWith("\"test\"")) {
                csv = text.substring(1, text.length() - 1).split("\",\"");
            }
        }
        if (csv == null || csv.length < 7) {
            throw new IllegalStateException("no result line in redis-benchmark's output: " + output);
        }
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
        double rps = Double.parseDouble(csv[1]);
        double p50 = Double.parseDouble(csv[4]) * 1e3;
        double p99 = Double.parseDouble(csv[6]) * 1e3;
        double benchmarkCpuSeconds = times.size() >= 2 ? times.get(1) : Double.NaN; // line 2: the children
        double cpuMicrosPerOp = (benchmarkCpuSeconds + serverCpuSeconds) * 1e6 / requests;
        return new Sample(rps, p50, p99, Double.NaN, 0, Double.NaN, Double.NaN, cpuMicrosPerOp);
    }
}
