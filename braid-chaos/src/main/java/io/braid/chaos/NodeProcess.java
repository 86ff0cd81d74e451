package io.braid.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One node JVM the orchestrator started: its standard output goes line by line to the history,
 * its standard error to {@code <dir>/<node>.log}. The orchestrator owns it: {@link #kill()} is
 * SIGKILL, {@link #drain} is SIGTERM, {@link #freeze()}/{@link #thaw()} are SIGSTOP/SIGCONT, {@link #close()} closes its
 * standard input (the node then shuts down gracefully) and kills it if it lingers.
 */
final class NodeProcess implements AutoCloseable {
    private static final long GRACEFUL_EXIT_SECONDS = 10;

    final String nodeId;
    final String service;
    private final Process process;
    private final Thread reader;
    private final Path log;
    private volatile boolean ready;

    private NodeProcess(String nodeId, String service, Process process, Path log, Consumer<String> lines) {
        this.nodeId = nodeId;
        this.service = service;
        this.process = process;
        this.log = log;
        this.reader = Thread.ofPlatform().daemon().name("out-" + nodeId).start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith(EventLog.READY + " ")) {
                        ready = true;
                    }
                    lines.accept(line);
                }
            } catch (IOException gone) {
                // the process died; what it wrote before is in
            }
        });
    }

    static NodeProcess start(Class<?> main, String service, NodeArgs args, Path dir, Consumer<String> lines) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms32m", "-Xmx192m", "-XX:CICompilerCount=1",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(args.toArgs());
        Path log = dir.resolve(args.nodeId() + ".log");
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            return new NodeProcess(args.nodeId(), service, process, log, lines);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start node " + args.nodeId(), e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isReady() {
        return ready;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The end of the node's log, for failure messages. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    /** SIGKILL, then waits until the process is gone and its output is read to the end. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        reader.join(TimeUnit.SECONDS.toMillis(5));
    }

    /**
     * SIGTERM, which the node's {@link io.braid.runtime.Braid#run()} answers with a drain; waits up to
     * {@code bound} for the process to exit and its output to be read to the end. Returns whether it
     * exited by itself; if not, it is killed (SIGKILL) and this returns false.
     */
    boolean drain(java.time.Duration bound) throws InterruptedException {
        Signals.send("TERM", process.pid());
        boolean exited = process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS);
        if (!exited) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(TimeUnit.SECONDS.toMillis(5));
        return exited;
    }

    void freeze() {
        Signals.send("STOP", process.pid());
    }

    void thaw() {
        Signals.send("CONT", process.pid());
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            thaw(); // a frozen process cannot shut down
            try {
                process.getOutputStream().close();
            } catch (IOException ignored) {
                // already gone
            }
            if (!process.waitFor(GRACEFUL_EXIT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        reader.join(TimeUnit.SECONDS.toMillis(5));
    }
}
