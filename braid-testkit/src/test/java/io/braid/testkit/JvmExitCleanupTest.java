package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JvmExitCleanupTest {

    @Test
    void serversLeftRunningDieWithTheJvm() throws IOException, InterruptedException {
        Process jvm = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                LeakyMain.class.getName())
                .redirectErrorStream(true)
                .start();
        String output;
        try {
            output = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).as("the JVM exits").isTrue();
        } finally {
            jvm.destroyForcibly();
        }
        assertThat(jvm.exitValue()).as(output).isZero();

        List<String> lines = output.lines().filter(line -> line.startsWith("server ")).toList();
        try {
            assertThat(lines).as(output).hasSize(2);
            for (String line : lines) {
                String[] fields = line.split(" ");
                long pid = Long.parseLong(fields[1]);
                assertThat(RedisServerTest.isAlive(pid)).as("redis-server pid %s", pid).isFalse();
                assertThat(Path.of(fields[2])).doesNotExist();
            }
        } finally {
            for (String line : lines) { // if the hook failed, do not leave its orphans behind
                ProcessHandle.of(Long.parseLong(line.split(" ")[1]))
                        .filter(process -> process.info().command().orElse("").endsWith("redis-server"))
                        .ifPresent(ProcessHandle::destroyForcibly);
                JvmExitCleanup.deleteRecursively(Path.of(line.split(" ")[2]));
            }
        }
    }

    /** Starts two servers, pauses one, and exits without closing either. */
    static final class LeakyMain {
        public static void main(String[] args) {
            RedisServer running = RedisServer.start();
            RedisServer paused = RedisServer.start();
            paused.pause();
            for (RedisServer server : List.of(running, paused)) {
                System.out.println("server " + server.pid() + " " + server.directory());
            }
        }
    }
}
