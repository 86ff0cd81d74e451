package io.braid.pubsub.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A {@link PubsubProcess} in a child JVM, whose lines go to a listener; closing kills it (SIGKILL). */
final class ChildConsumer implements AutoCloseable {
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private final Process process;
    private final Thread reader;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private volatile boolean ready;

    private ChildConsumer(Process process, Consumer<String> listener) {
        this.process = process;
        this.reader = Thread.ofPlatform().daemon().name("child-consumer-output").start(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("READY")) {
                        ready = true;
                    } else if (line.startsWith("GOT ") || line.startsWith("H ")) {
                        try {
                            listener.accept(line);
                        } catch (RuntimeException e) {
                            lines.add("listener failed on '" + line + "': " + e); // keep reading: the child must not block
                        }
                    } else {
                        lines.add(line); // logs, errors: kept for the failure message
                    }
                }
            } catch (IOException ignored) {
                // the child died
            }
        });
    }

    /** Starts the child and waits until it is subscribed. */
    static ChildConsumer start(String uri, String topic, String channel, int concurrency, String mode,
                               Consumer<String> listener, String... more) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), PubsubProcess.class.getName(),
                uri, topic, channel, Integer.toString(concurrency), mode));
        command.addAll(List.of(more));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        ChildConsumer child = new ChildConsumer(process, listener);
        try {
            // A JVM start on a loaded machine (and a Cluster's topology to learn) can take long.
            io.braid.testkit.Await.until(STARTUP, () -> "the child consumer to subscribe (output so far: "
                    + child.lines + ")", () -> child.ready || !process.isAlive());
            if (!child.ready) {
                throw new IllegalStateException("the child consumer exited early: " + child.lines);
            }
        } catch (RuntimeException e) {
            child.close();
            throw e;
        }
        return child;
    }

    /** SIGKILL, like a crashed host: no shutdown hooks, no acknowledgements, no goodbye to Redis. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the child consumer did not die");
        }
        reader.join(Duration.ofSeconds(5));
    }

    /** Lines that were neither READY nor a report: the child's logs, or a listener's failures. */
    List<String> otherLines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
