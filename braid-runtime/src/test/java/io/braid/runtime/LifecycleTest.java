package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Message;
import io.braid.api.NodeState;
import io.braid.testkit.Await;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** go-micro's Service options: lifecycle hooks, subscribers on the builder, run() until SIGTERM. */
class LifecycleTest {
    @Test
    void hooksRunInOrderAroundStartAndStop() {
        List<String> trace = new CopyOnWriteArrayList<>();
        Braid braid = Braid.builder().service("logic").ioThreads(1).inMemory(new InMemoryControlPlane("hooks"))
                .beforeStart(() -> trace.add("before start"))
                .afterStart(node -> trace.add("after start, registered: " + !node.discover().nodes("logic").isEmpty()))
                .beforeStop(node -> trace.add("before stop, still registered: " + !node.discover().nodes("logic").isEmpty()))
                .afterStop(() -> trace.add("after stop"))
                .start();
        trace.add("running");

        braid.close();
        braid.close();

        assertThat(trace).containsExactly("before start", "after start, registered: true", "running",
                "before stop, still registered: true", "after stop");
    }

    @Test
    void aSubscriberOnTheBuilderLivesAndDiesWithTheNode() {
        InMemoryControlPlane plane = new InMemoryControlPlane("subscribe-" + UUID.randomUUID());
        List<String> received = new CopyOnWriteArrayList<>();
        Braid listener = Braid.builder().service("chat").ioThreads(1).inMemory(plane)
                .subscribe("chat.world", "chat-1", (Message m) -> received.add(new String(m.body(), StandardCharsets.UTF_8)))
                .start();
        try (Braid speaker = Braid.builder().service("gateway").ioThreads(1).inMemory(plane).start()) {
            speaker.topic("chat.world").publish("hello".getBytes(StandardCharsets.UTF_8)).join();
            Await.until(Duration.ofSeconds(5), "the subscriber hears it", () -> received.contains("hello"));

            listener.close();
            speaker.topic("chat.world").publish("after".getBytes(StandardCharsets.UTF_8)).join();
            // The durable channel keeps "after" for the next consumer; the closed node gets nothing.
            try (Braid next = Braid.builder().service("chat").ioThreads(1).inMemory(plane)
                    .subscribe("chat.world", "chat-1", (Message m) -> received.add("next:" + new String(m.body(),
                            StandardCharsets.UTF_8))).start()) {
                Await.until(Duration.ofSeconds(5), "the next node gets what was kept", () -> received.contains("next:after"));
            }
        }
        assertThat(received).containsExactly("hello", "next:after");
    }

    @Test
    void runDrainsAndExitsZeroOnARealSigterm() throws Exception {
        Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), ServiceProcess.class.getName(), "run-" + UUID.randomUUID())
                .redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (java.io.IOException ignored) {
                // the child is gone
            }
        });
        try {
            Await.until(Duration.ofSeconds(20), "the child runs",
                    () -> lines.stream().anyMatch(l -> l.contains("running until SIGTERM")));

            Process term = new ProcessBuilder("kill", "-TERM", Long.toString(child.pid())).start();
            assertThat(term.waitFor(5, TimeUnit.SECONDS)).isTrue();

            assertThat(child.waitFor(20, TimeUnit.SECONDS)).as("the child exits").isTrue();
            assertThat(child.exitValue()).as("exit code, output: " + lines).isZero();
            assertThat(lines).contains("STOPPING " + NodeState.DRAINING, "STOPPED", "RUN RETURNED");
        } finally {
            child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
