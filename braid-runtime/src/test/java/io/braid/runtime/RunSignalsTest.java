package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Braid#run()} in a real process, stopped by real signals: a SIGTERM always ends it, even
 * when the drain cannot start because Redis is down, and a second SIGTERM ends a drain that is
 * still waiting for its players.
 */
class RunSignalsTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @BeforeEach
    void redisUp() {
        if (!redis.server().isRunning()) {
            redis.server().restart();
        }
        redis.server().flushAll();
    }

    @Test
    void aSigtermEndsRunEvenWhenRedisIsDown() throws Exception {
        Child child = Child.start(redis.server().uri());
        try {
            redis.server().kill();
            child.signal("TERM");
            assertThat(child.process.waitFor(20, TimeUnit.SECONDS)).as("the child exits; output: %s", child.lines).isTrue();
            assertThat(child.process.exitValue()).as("exit code, output: " + child.lines).isZero();
            assertThat(child.lines).contains("STOPPING ACTIVE", "STOPPED", "RUN RETURNED");
        } finally {
            child.destroy();
        }
    }

    @Test
    void aSecondSigtermEndsADrainThatWaitsForPlayers() throws Exception {
        Child child = Child.start(redis.server().uri(), "linked");
        try {
            child.signal("TERM");
            assertThat(child.process.waitFor(2, TimeUnit.SECONDS)).as("draining: one player is still linked").isFalse();
            child.signal("TERM");
            assertThat(child.process.waitFor(20, TimeUnit.SECONDS)).as("the child exits; output: %s", child.lines).isTrue();
            assertThat(child.process.exitValue()).as("exit code, output: " + child.lines).isZero();
            assertThat(child.lines).contains("STOPPING DRAINING", "STOPPED", "RUN RETURNED");
        } finally {
            child.destroy();
        }
    }

    private record Child(Process process, List<String> lines) {
        static Child start(String... args) throws Exception {
            List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-cp", System.getProperty("java.class.path"), RedisServiceProcess.class.getName()));
            command.addAll(List.of(args));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            List<String> lines = new CopyOnWriteArrayList<>();
            Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (java.io.IOException ignored) {
                    // the child is gone
                }
            });
            Child child = new Child(process, lines);
            try {
                Await.until(Duration.ofSeconds(60), () -> "the child runs; output: " + lines,
                        () -> lines.stream().anyMatch(l -> l.contains("running until SIGTERM")) || !process.isAlive());
                assertThat(process.isAlive()).as("the child started; output: %s", lines).isTrue();
            } catch (AssertionError e) {
                child.destroy();
                throw e;
            }
            return child;
        }

        void signal(String name) throws Exception {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
            assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
        }

        void destroy() throws InterruptedException {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
