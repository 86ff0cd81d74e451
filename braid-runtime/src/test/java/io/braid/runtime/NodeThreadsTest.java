package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The threads a node starts, counted: its event loops carry RPC, the monitor and Redis I/O alike,
 * one scheduler runs its chores, and nothing else of braid's or Lettuce's runs a loop of its own.
 * A new private thread pool shows up here as a failure naming it.
 */
class NodeThreadsTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Test
    void aRedisNodeWithTheMonitorRunsRedisIoOnItsOwnEventLoops() {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        Map<String, Integer> started;
        try (Braid node = Braid.builder().service("threads").nodeId("threads-node").ioThreads(2)
                .redis(redis.server().uri()).monitor(0).start()) {
            node.invoke("threads", "missing", "", new byte[0]).exceptionally(e -> null).join(); // the client's loops too
            Await.until(Duration.ofSeconds(5), () -> "the node's threads are up: " + startedSince(before),
                    () -> startedSince(before).getOrDefault("braid-threads-node", 0) >= 2);
            started = startedSince(before);
        }
        assertThat(started).as("threads the node started, by name without numbers")
                .doesNotContainKeys("lettuce-epollEventLoop", "lettuce-nioEventLoop", "lettuce-eventExecutorLoop")
                .containsEntry("braid-threads-node", 2)
                .containsEntry("braid-scheduler-threads-node", 1);
        assertThat(started.keySet()).as("every thread the node started")
                .isSubsetOf("braid-threads-node", "braid-scheduler-threads-node", "braid-discover", "braid-elector-threads",
                        "lettuce-timer");
    }

    /** Live threads started since {@code before}, counted by name with their numbers cut off; the JDK's own are left out. */
    private static Map<String, Integer> startedSince(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> !before.contains(thread) && thread.isAlive())
                .map(thread -> thread.getName().replaceAll("(-\\d+)+$", ""))
                .filter(name -> !name.startsWith("ForkJoinPool") && !name.startsWith("VirtualThread")
                        && !name.equals("process reaper") && !name.startsWith("Attach") && !name.isEmpty())
                .collect(Collectors.toMap(name -> name, name -> 1, Integer::sum, TreeMap::new));
    }
}
