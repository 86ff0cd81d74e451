package io.braid.examples;

import io.braid.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One entry point of the examples in a JVM of its own, started from this test's classpath (the
 * module's built classes and its dependencies). Its stdout is kept line by line; its stderr goes to
 * a file under target/. It runs with {@code --exit-on-stdin-eof}, so closing its stdin stops it
 * cleanly, and a test JVM that dies takes it along.
 */
final class ChildJvm implements AutoCloseable {
    private final String name;
    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private final Path log;

    private ChildJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.reader = Thread.ofPlatform().daemon().name("stdout-" + name).start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ended) {
                // the child is gone
            }
        });
    }

    /** Starts {@code Main <command> args...} with {@code env} added to this JVM's environment. */
    static ChildJvm start(String name, String command, List<String> args, Map<String, String> env, boolean ownStdin)
            throws IOException {
        Path logs = Path.of("target", "child-jvms");
        Files.createDirectories(logs);
        Path log = logs.resolve(name + ".log");
        List<String> line = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx192m", "-Xss512k",
                "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 24) {
            line.add("--sun-misc-unsafe-memory-access=allow");
        }
        line.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), command));
        line.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(line).redirectError(log.toFile());
        builder.environment().putAll(env);
        if (ownStdin) {
            builder.environment().put("BRAID_EXIT_ON_STDIN_EOF", "true");
        }
        return new ChildJvm(name, builder.start(), log);
    }

    String name() {
        return name;
    }

    Process process() {
        return process;
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    /** The first line so far that matches, if any. */
    Optional<String> line(Predicate<String> matching) {
        return lines.stream().filter(matching).findFirst();
    }

    /** Waits for a line that matches and returns it; fails with the child's output if none comes. */
    String awaitLine(Duration within, String what, Predicate<String> matching) {
        Await.until(within, () -> name + " prints " + what + "; it printed:\n" + String.join("\n", lines) + "\nstderr:\n"
                + stderrTail(), () -> line(matching).isPresent() || !process.isAlive() && line(matching).isPresent());
        return line(matching).orElseThrow();
    }

    String stderrTail() {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }

    /** Closes its stdin: the child stops by itself. Returns whether it exited within {@code within}. */
    boolean stop(Duration within) throws InterruptedException, IOException {
        process.getOutputStream().close();
        return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** kill -9. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Waits for the stdout reader to see the end of the child's output. */
    void awaitOutputEnd(Duration within) throws InterruptedException {
        reader.join(within);
    }

    /** Kills the child if it still runs and waits for it and its output to end. */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            reader.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
