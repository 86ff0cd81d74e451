package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.testkit.Await;
import io.braid.testkit.RedisServer;
import io.braid.testkit.RedisProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * 10,000 simulated players for a bounded run: a gateway and three logic nodes (in-process Braid
 * nodes) on one real redis-server; every player's token is linked to a logic node and called in a
 * loop, 64 calls in flight. After warm-up (every token linked, caches full), heap after GC, live
 * platform threads, open file descriptors and Redis' {@code used_memory} are sampled at start,
 * middle and end of the run (with the load paused for the sample) and must stay flat within the
 * tolerances below. Every call must succeed, and no player may change owner.
 *
 * <p>The build runs it for {@value #DEFAULT_SECONDS} s; {@code -Dsoak.seconds=600} runs a long one
 * (see the module's README). The figures are printed as {@code soak ...} lines.
 */
class SoakTest {
    static final int DEFAULT_SECONDS = 20;
    private static final int PLAYERS = 10_000;
    private static final int IN_FLIGHT = 64;
    private static final String[] LOGIC_IDS = {"logic-1", "logic-2", "logic-3"};
    /** Heap after GC may grow by this much or 20 % of the start, whichever is larger. */
    private static final long HEAP_MARGIN_BYTES = 48L * 1024 * 1024;
    private static final int THREAD_MARGIN = 4;
    private static final int FD_MARGIN = 8;
    /** Redis memory may grow by this much or 10 %, whichever is larger (allocator noise). */
    private static final long REDIS_MARGIN_BYTES = 2L * 1024 * 1024;

    record Sample(String at, long heapBytes, int threads, long fds, long redisBytes, long calls) {
        @Override
        public String toString() {
            return String.format("soak %-6s heap after GC %,7.1f MiB | threads %3d | fds %4d | redis used_memory %,7.1f MiB | calls %,d",
                    at, heapBytes / 1048576.0, threads, fds, redisBytes / 1048576.0, calls);
        }
    }

    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final ConcurrentHashMap<String, String> firstFailure = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<String> owners = new AtomicReferenceArray<>(PLAYERS);
    private final AtomicLong ownerChanges = new AtomicLong();

    @Test
    void tenThousandPlayersKeepHeapThreadsFilesAndRedisMemoryFlat() throws Exception {
        long seconds = Long.getLong("soak.seconds", DEFAULT_SECONDS);
        assertThat(seconds).as("soak.seconds").isPositive();
        List<AutoCloseable> resources = new ArrayList<>();
        try (RedisServer redis = RedisServer.start(); RedisProbe probe = redis.probe()) {
            for (String id : LOGIC_IDS) {
                resources.add(Braid.builder().service("logic").nodeId(id).ioThreads(1).redis(redis.uri())
                        .rpcPort(0).handle("play", StringValue.parser(),
                                (ctx, req) -> StringValue.of(id))
                        .start());
            }
            Braid gateway = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1).redis(redis.uri())
                    .defaultTimeout(Duration.ofSeconds(15)).start();
            resources.add(gateway);
            Await.until(Duration.ofSeconds(15), "the gateway to see three logic nodes",
                    () -> gateway.discover().nodes("logic").size() == LOGIC_IDS.length);

            // Warm-up: every player linked, then a full round so near caches and pools are settled.
            runFor(gateway, 0, 2);
            assertThat(owners.length()).isEqualTo(PLAYERS);
            for (int i = 0; i < PLAYERS; i++) {
                assertThat(owners.get(i)).as("player %d linked", i).isNotNull();
            }
            long linked = 0;
            for (String id : LOGIC_IDS) {
                linked += gateway.linkCache().linkCount(id);
            }
            assertThat(linked).as("links in Redis").isEqualTo(PLAYERS);

            List<Sample> samples = new ArrayList<>();
            samples.add(sample("start", probe));
            System.out.println(samples.getLast());
            long half = TimeUnit.SECONDS.toNanos(seconds) / 2;
            runFor(gateway, half, 0);
            samples.add(sample("middle", probe));
            System.out.println(samples.getLast());
            runFor(gateway, half, 0);
            samples.add(sample("end", probe));
            System.out.println(samples.getLast());
            System.out.printf("soak %d players, %d s: %,d calls (%,.0f/s after warm-up), %d failed, %d owner changes%n",
                    PLAYERS, seconds, calls.get(), (samples.get(2).calls() - samples.get(0).calls()) / (double) seconds,
                    failures.get(), ownerChanges.get());

            assertThat(failures.get()).as("failed calls, first: " + firstFailure).isZero();
            assertThat(ownerChanges.get()).as("players whose owner changed").isZero();
            Sample start = samples.get(0);
            for (Sample later : samples.subList(1, samples.size())) {
                assertThat(later.heapBytes()).as("heap after GC at " + later.at())
                        .isLessThanOrEqualTo(start.heapBytes() + Math.max(HEAP_MARGIN_BYTES, start.heapBytes() / 5));
                assertThat(later.threads()).as("platform threads at " + later.at())
                        .isLessThanOrEqualTo(start.threads() + THREAD_MARGIN);
                assertThat(later.fds()).as("open file descriptors at " + later.at())
                        .isLessThanOrEqualTo(start.fds() + FD_MARGIN);
                assertThat(later.redisBytes()).as("Redis used_memory at " + later.at())
                        .isLessThanOrEqualTo(start.redisBytes() + Math.max(REDIS_MARGIN_BYTES, start.redisBytes() / 10));
            }
        } finally {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
        }
    }

    /**
     * Calls players in turn, {@value #IN_FLIGHT} at a time, for {@code nanos} and at least
     * {@code minRounds} full rounds over every player; returns with nothing in flight.
     */
    private void runFor(Braid gateway, long nanos, int minRounds) throws InterruptedException {
        Semaphore slots = new Semaphore(IN_FLIGHT);
        long end = System.nanoTime() + nanos;
        CallOptions options = CallOptions.DEFAULT;
        for (long n = 0; n < (long) minRounds * PLAYERS || System.nanoTime() < end; n++) {
            int player = (int) (n % PLAYERS);
            String token = "player-" + player;
            slots.acquire();
            gateway.client().invoke("logic", "play", token, StringValue.of(token), StringValue.parser(), options)
                    .whenComplete((answer, failure) -> {
                        slots.release();
                        calls.incrementAndGet();
                        if (failure != null) {
                            failures.incrementAndGet();
                            firstFailure.putIfAbsent("first", failure.toString());
                            return;
                        }
                        String before = owners.compareAndExchange(player, null, answer.getValue());
                        if (before != null && !before.equals(answer.getValue())) {
                            ownerChanges.incrementAndGet();
                        }
                    });
        }
        if (!slots.tryAcquire(IN_FLIGHT, 60, TimeUnit.SECONDS)) {
            throw new AssertionError("calls still in flight after 60 s");
        }
    }

    private Sample sample(String at, RedisProbe probe) {
        var memory = ManagementFactory.getMemoryMXBean();
        memory.gc();
        memory.gc();
        long heap = memory.getHeapMemoryUsage().getUsed();
        int threads = ManagementFactory.getThreadMXBean().getThreadCount();
        return new Sample(at, heap, threads, openFileDescriptors(), usedMemory(probe), calls.get());
    }

    private static long usedMemory(RedisProbe probe) {
        for (String line : probe.info("memory").split("\r\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        throw new IllegalStateException("INFO memory has no used_memory");
    }

    private static long openFileDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
