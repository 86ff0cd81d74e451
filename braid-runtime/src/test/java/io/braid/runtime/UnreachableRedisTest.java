package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code Braid.builder()...start()} against a Redis it cannot use: a port nobody listens on, a
 * server that accepts the connection and never answers (SIGSTOP), a Cluster whose seed is dead.
 * The user sees a BraidException UNAVAILABLE naming the address, within a bound set by
 * {@code redisCommandTimeout}, and nothing of the node is left: no thread, no listening port.
 */
class UnreachableRedisTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);
    /** The command timeout plus generous room for a loaded two-core machine. */
    private static final long BOUND_MS = COMMAND_TIMEOUT.toMillis() + 10_000;
    /** Threads of the JVM and of Netty's process-wide helpers, which come and go on their own. */
    private static final List<String> AMBIENT_THREADS = List.of("ForkJoinPool", "globalEventExecutor",
            "ObjectCleanerThread", "process reaper", "Attach Listener", "Common-Cleaner", "surefire", "junit",
            "RMI", "JFR", "Notification Thread", "Signal Dispatcher");

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Set<String> nodeThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> AMBIENT_THREADS.stream().noneMatch(name::startsWith))
                .collect(Collectors.toSet());
    }

    /** Starts a node that must fail; checks the error, the time it took, and that nothing is left. */
    private static BraidException refusedStart(Supplier<Braid> start, String address) {
        Set<String> before = nodeThreads();
        long began = System.nanoTime();
        BraidException[] failure = new BraidException[1];
        assertThatThrownBy(start::get).isInstanceOfSatisfying(BraidException.class, e -> failure[0] = e);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        assertThat(failure[0].code()).isEqualTo(Code.UNAVAILABLE);
        assertThat(failure[0].getMessage()).as("the error names the address").contains(address);
        assertThat(tookMs).as("start() gave up within the command timeout and a margin").isLessThan(BOUND_MS);
        Await.until(Duration.ofSeconds(10), () -> "threads of the failed node to end: " + difference(nodeThreads(), before),
                () -> difference(nodeThreads(), before).isEmpty());
        System.out.printf("start() against %s failed after %d ms: %s%n", address, tookMs, failure[0].getMessage());
        return failure[0];
    }

    private static Set<String> difference(Set<String> now, Set<String> before) {
        return now.stream().filter(name -> !before.contains(name)).collect(Collectors.toSet());
    }

    @Test
    void aPortNobodyListensOnFailsFastNamingTheAddressAndLeavesNothingRunning() {
        int deadPort = freePort();
        int rpcPort = freePort();
        int monitorPort = freePort();
        refusedStart(() -> Braid.builder().service("logic").nodeId("logic-dead-port").ioThreads(1)
                .redis("redis://127.0.0.1:" + deadPort).redisCommandTimeout(COMMAND_TIMEOUT)
                .rpcPort(rpcPort).monitor(monitorPort).start(), "127.0.0.1:" + deadPort);
        assertThat(bindable(rpcPort)).as("the RPC port is free again").isTrue();
        assertThat(bindable(monitorPort)).as("the monitor port is free again").isTrue();
    }

    @Test
    void aRedisThatAcceptsButNeverAnswersFailsWithinTheCommandTimeout() {
        try (RedisServer redis = RedisServer.start()) {
            redis.pause();
            try {
                int rpcPort = freePort();
                refusedStart(() -> Braid.builder().service("logic").nodeId("logic-frozen-redis").ioThreads(1)
                        .redis(redis.uri()).redisCommandTimeout(COMMAND_TIMEOUT).rpcPort(rpcPort).start(),
                        "127.0.0.1:" + redis.port());
                assertThat(bindable(rpcPort)).as("the RPC port is free again").isTrue();
            } finally {
                redis.resume();
            }
            // The same settings against the server once it answers: the failure was Redis', not ours.
            try (Braid node = Braid.builder().service("logic").nodeId("logic-thawed").ioThreads(1)
                    .redis(redis.uri()).redisCommandTimeout(COMMAND_TIMEOUT).start()) {
                assertThat(node.discover().nodes("logic")).extracting(n -> n.id()).contains("logic-thawed");
            }
        }
    }

    @Test
    void aClusterWhoseSeedsAreDeadFailsNamingThem() {
        int deadPort = freePort();
        refusedStart(() -> Braid.builder().service("logic").nodeId("logic-dead-cluster").ioThreads(1)
                .redisCluster(List.of("redis://127.0.0.1:" + deadPort)).redisCommandTimeout(COMMAND_TIMEOUT).start(),
                "127.0.0.1:" + deadPort);
    }
}
