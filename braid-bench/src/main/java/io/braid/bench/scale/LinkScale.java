package io.braid.bench.scale;

import io.braid.api.Node;
import io.braid.linkcache.internal.RedisLinkCache;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Links {@code n} tokens through one {@link RedisLinkCache} as a node does when players arrive (the
 * claim script of a cold token, {@code lookUpOrLinkAsync}, many in flight on the connector's one
 * connection), then unlinks them all as their owner ({@code unlinkAsync(token, owner)}). Measures
 * Redis' memory per link ({@code used_memory} delta of every master, less the delta of client
 * buffers, over {@code n}), the near cache's heap per entry (this JVM's used heap after full GCs,
 * before and after, over the entries it holds), link and unlink throughput, and Redis CPU and
 * commands per link from {@code INFO}.
 *
 * <p>Tokens are 16 characters ({@code player:000000042}), linked round robin to 10 nodes of one
 * service; they are made (and held by this class) before the baseline heap reading, as a gateway's
 * sessions hold their tokens, so the near cache's figure is what the cache adds. The near cache is
 * sized for {@code n} with a TTL of an hour and the widest staleness bound (a minute), so that what
 * is measured is memory, not expiry; a flush of the cache (its invalidation connection dropped)
 * shows as fewer entries held.
 */
final class LinkScale {
    static final String SERVICE = "logic";
    static final int NODES = 10;
    static final int IN_FLIGHT = 512;

    /** What one run measured. NaN where a figure could not be taken. */
    record Result(String store, int links, double redisBytesPerLink, double nearCacheBytesPerEntry, long nearEntries,
            double linksPerSecond, double unlinksPerSecond, long linkFailures, long unlinkFailures, String firstFailure,
            double redisCpuMicrosPerLink, double redisCpuMicrosPerUnlink, double commandsPerLink,
            double residualBytesPerLink) {
        long failures() {
            return linkFailures + unlinkFailures;
        }
    }

    private LinkScale() {
    }

    static String token(int i) {
        return String.format(Locale.ROOT, "player:%09d", i);
    }

    static Result run(String store, RedisConnector redis, List<RedisProbe> masters, int n) throws Exception {
        Node[] nodes = new Node[NODES];
        for (int k = 0; k < NODES; k++) {
            nodes[k] = Node.of("logic-" + (k + 1), SERVICE, "127.0.0.1", 7001 + k, 100);
        }
        String[] tokens = new String[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = token(i);
        }
        Failures linkFailures = new Failures();
        Failures unlinkFailures = new Failures();
        try (RedisLinkCache links = RedisLinkCache.builder(redis).nearCacheSize(Math.max(n, 1))
                .nearCacheTtl(Duration.ofHours(1)).stalenessBound(Duration.ofMinutes(1)).build()) {
            Await.until(Duration.ofSeconds(30), "the near cache vouches (first heartbeat)",
                    () -> vouches(links, nodes[0]));
            long heapBefore = usedHeapAfterGc();
            Reading before = Reading.of(masters);

            double linksPerSecond = drive(n, i -> links.lookUpOrLinkAsync(tokens[i], nodes[i % NODES]), linkFailures);

            Reading linked = Reading.of(masters);
            long heapAfter = usedHeapAfterGc();
            long held = 0;
            for (int i = 0; i < n; i++) {
                Object link = links.cachedLinkOf(tokens[i], SERVICE);
                if (link != null) {
                    held++;
                }
            }
            double unlinksPerSecond = drive(n, i -> links.unlinkAsync(tokens[i], nodes[i % NODES]), unlinkFailures);
            Reading unlinked = Reading.of(masters);

            double linkedBytes = (linked.usedMemory - before.usedMemory) - (linked.clientMemory - before.clientMemory);
            double residualBytes = (unlinked.usedMemory - before.usedMemory)
                    - (unlinked.clientMemory - before.clientMemory);
            return new Result(store, n, linkedBytes / n,
                    held == 0 ? Double.NaN : (double) (heapAfter - heapBefore) / held, held, linksPerSecond,
                    unlinksPerSecond, linkFailures.count.get(), unlinkFailures.count.get(),
                    linkFailures.first != null ? linkFailures.first : unlinkFailures.first, (linked.cpuMicros - before.cpuMicros) / n,
                    (unlinked.cpuMicros - linked.cpuMicros) / n,
                    (double) (linked.commands - before.commands) / n, residualBytes / n);
        }
    }

    /** Whether the near cache answers from memory: link one probe token, see it answered, unlink it. */
    private static boolean vouches(RedisLinkCache links, Node node) {
        String probe = "scale-probe";
        links.lookUpOrLinkAsync(probe, node).join();
        boolean cached = links.cachedLinkOf(probe, SERVICE) != null;
        links.unlinkAsync(probe, node).join();
        return cached;
    }

    /** Operations that failed, and what the first one failed with. */
    static final class Failures {
        final AtomicLong count = new AtomicLong();
        volatile String first;

        void add(Throwable failure) {
            if (count.getAndIncrement() == 0) {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                first = cause.toString();
            }
        }
    }

    /** Runs {@code op(0..n-1)} with at most {@link #IN_FLIGHT} in flight; answers operations per second. */
    static double drive(int n, IntFunction<CompletableFuture<?>> op, Failures failures) throws InterruptedException {
        Semaphore permits = new Semaphore(IN_FLIGHT);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            permits.acquire();
            CompletableFuture<?> future;
            try {
                future = op.apply(i);
            } catch (RuntimeException e) {
                failures.add(e);
                permits.release();
                continue;
            }
            future.whenComplete((answer, failure) -> {
                if (failure != null) {
                    failures.add(failure);
                }
                permits.release();
            });
        }
        permits.acquire(IN_FLIGHT);
        permits.release(IN_FLIGHT);
        return n / ((System.nanoTime() - start) / 1e9);
    }

    /** This JVM's used heap after two full collections (the bench runs the serial collector). */
    static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Memory, client buffers, CPU and commands of every master, summed. */
    private record Reading(long usedMemory, long clientMemory, double cpuMicros, long commands) {
        static Reading of(List<RedisProbe> masters) {
            long used = 0;
            long clients = 0;
            double cpu = 0;
            long commands = 0;
            for (RedisProbe probe : masters) {
                String memory = probe.info("memory");
                used += field(memory, "used_memory");
                clients += field(memory, "mem_clients_normal");
                String cpuInfo = probe.info("cpu");
                cpu += (fieldDouble(cpuInfo, "used_cpu_sys") + fieldDouble(cpuInfo, "used_cpu_user")) * 1e6;
                for (Map.Entry<String, Long> command : probe.commandCalls().entrySet()) {
                    if (!command.getKey().equals("info")) {
                        commands += command.getValue();
                    }
                }
            }
            return new Reading(used, clients, cpu, commands);
        }
    }

    static long field(String info, String name) {
        return (long) fieldDouble(info, name);
    }

    static double fieldDouble(String info, String name) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(name + ":")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new IllegalStateException("INFO without " + name);
    }
}
