package io.braid.bench.rpc;

import io.braid.bench.core.Pinning;
import io.braid.bench.core.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server JVM ({@link ServerMain}, or another main speaking its protocol) seen from the bench JVM:
 * started on the server core with the bench JVM's own flags and class path, its port, and a
 * {@link Usage.Meter} that asks it for its CPU time and allocated bytes. Closing it stops the JVM.
 */
public final class ServerProcess implements AutoCloseable {
    /**
     * Extra flags for server JVMs only, space-separated, e.g. to record a flight recording of
     * the serving side: {@code -Dbench.serverFlags=-XX:StartFlightRecording=filename=server.jfr}.
     */
    public static final String EXTRA_FLAGS_PROPERTY = "bench.serverFlags";
    private static final long START_TIMEOUT_SECONDS = 60;

    private final ServerKind kind;
    private final String name;
    private final Process process;
    private final BufferedReader replies;
    private final PrintStream commands;
    private final int port;

    private ServerProcess(ServerKind kind, String name, Process process, BufferedReader replies, PrintStream commands,
            int port) {
        this.kind = kind;
        this.name = name;
        this.process = process;
        this.replies = replies;
        this.commands = commands;
        this.port = port;
    }

    /** Starts a server JVM and returns once it accepts connections. */
    public static ServerProcess start(ServerKind kind) throws IOException, InterruptedException {
        return startAll(List.of(kind)).get(0);
    }

    /**
     * Starts server JVMs side by side (JVM start-up is mostly waiting) and returns once all accept
     * connections; if one fails, those started are stopped.
     */
    public static List<ServerProcess> startAll(List<ServerKind> kinds) throws IOException, InterruptedException {
        List<Process> processes = new ArrayList<>();
        List<ServerProcess> started = new ArrayList<>();
        try {
            for (ServerKind kind : kinds) {
                processes.add(launch(kind));
            }
            for (int i = 0; i < kinds.size(); i++) {
                started.add(awaitReady(kinds.get(i), processes.get(i)));
            }
            return started;
        } catch (IOException | InterruptedException | RuntimeException e) {
            for (Process process : processes) {
                process.destroyForcibly();
            }
            throw e;
        }
    }

    /**
     * Starts {@code main} with {@code args} in a server JVM, as {@link #start} starts {@link ServerMain}
     * (same flags, class path and core), and returns once it printed {@code ready <port>}. The main
     * speaks {@link ServerMain}'s protocol; {@code name} names it in errors. {@link #kind()} is null.
     */
    public static ServerProcess startMain(String name, Class<?> main, List<String> args) throws IOException,
            InterruptedException {
        Process process = launch(main, args);
        try {
            return awaitReady(null, name, process);
        } catch (IOException | InterruptedException | RuntimeException e) {
            process.destroyForcibly();
            throw e;
        }
    }

    private static Process launch(ServerKind kind) throws IOException {
        return launch(ServerMain.class, List.of(kind.id()));
    }

    private static Process launch(Class<?> main, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.addAll(extraFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(args);
        return new ProcessBuilder(Pinning.onServerCore(command)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static ServerProcess awaitReady(ServerKind kind, Process process) throws IOException,
            InterruptedException {
        return awaitReady(kind, kind.id(), process);
    }

    private static ServerProcess awaitReady(ServerKind kind, String name, Process process) throws IOException,
            InterruptedException {
        BufferedReader replies = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        PrintStream commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread watchdog = Thread.ofPlatform().daemon().start(() -> {
            try {
                if (!process.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    // still starting after the timeout: kill it so the read below ends
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                // started in time
            }
        });
        String ready = nextReply(replies, "ready ");
        watchdog.interrupt();
        if (ready == null) {
            process.destroyForcibly();
            throw new IllegalStateException("server JVM " + name + " did not start (exit " + process.waitFor()
                    + "); its errors are above");
        }
        return new ServerProcess(kind, name, process, replies, commands, Integer.parseInt(ready.substring(6).strip()));
    }

    /** The echo server this JVM runs; null for one started by {@link #startMain}. */
    public ServerKind kind() {
        return kind;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    /** CPU time and allocation of the whole server JVM. */
    public Usage.Meter meter() {
        return this::usage;
    }

    private synchronized Usage usage() {
        commands.println("usage");
        try {
            String reply = nextReply(replies, "usage ");
            if (reply == null) {
                throw new IllegalStateException("server JVM " + name + " answered " + reply + " to usage");
            }
            String[] fields = reply.split(" ");
            return new Usage(Long.parseLong(fields[1]), Long.parseLong(fields[2]));
        } catch (IOException e) {
            throw new UncheckedIOException("server JVM " + name + " is gone", e);
        }
    }

    /**
     * The next protocol line, passing on anything else the JVM printed to stdout (the JVM itself
     * announces a flight recording there) to our stderr; null at the end of the stream.
     */
    private static String nextReply(BufferedReader replies, String prefix) throws IOException {
        String line;
        while ((line = replies.readLine()) != null && !line.startsWith(prefix)) {
            System.err.println("[server] " + line);
        }
        return line;
    }

    @Override
    public synchronized void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        commands.println("exit");
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The flags this JVM was started with, minus agents and recordings that cannot be shared by
     * two JVMs: the server side runs with the same heap, GC and compiler settings as the load side.
     */
    public static List<String> jvmFlags() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(flag -> !flag.startsWith("-agentlib") && !flag.startsWith("-agentpath")
                        && !flag.startsWith("-javaagent") && !flag.startsWith("-XX:StartFlightRecording")
                        && !flag.startsWith("-XX:FlightRecorderOptions") && !flag.startsWith("-D"))
                .toList();
    }

    private static List<String> extraFlags() {
        String extra = System.getProperty(EXTRA_FLAGS_PROPERTY, "").strip();
        return extra.isEmpty() ? List.of() : List.of(extra.split("\\s+"));
    }
}
