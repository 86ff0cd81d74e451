package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The sticky-routing checks on a Redis control plane, plus the one only Redis has: a warm sticky
 * call makes no Redis round trip.
 */
abstract class RedisStickyRoutingContract extends StickyRoutingContract {
    /**
     * What a link-cache operation makes Redis run, and nothing else in braid does. A lookup is one
     * HGET (the link's field in its bucket holds owner and epoch); link, relink, move and
     * compare-and-delete unlink are scripts that begin with an HGET; unlink of a whole token
     * removes with HDEL and counts with HINCRBY. Redis counts commands run inside a script in INFO
     * commandstats like any other, so every link-cache operation but linkCount moves at least one
     * of these counters (linkCount, an HMGET per shard, is left out: discovery's scripts run HMGET
     * too, and a node may count its links while it is called). Discovery (heartbeat and resync scripts: TIME, EXISTS, HSET, PEXPIRE,
     * ZADD, ZRANGE, HGETALL, SMEMBERS, PUBLISH), election (GET, SET, INCR, PEXPIRE, DEL) and
     * pub-sub (stream commands) use none of them, so these counters are exact even while that
     * background traffic goes on, and the probe's own INFO is not among them. (A module that
     * starts using one of them must be left out of this measure.)
     */
    static final List<String> LINK_CACHE_COMMANDS = List.of("hget", "hdel", "hincrby");
    /** Redis command timeout of nodes that send bursts (see {@link #onPlaneForBursts}). */
    static final Duration BURST_COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /** INFO commandstats calls per command, summed over every Redis server of the plane. */
    protected abstract Map<String, Long> commandCalls();

    private Map<String, Long> linkCacheCommandCalls() {
        Map<String, Long> all = commandCalls();
        Map<String, Long> counts = new TreeMap<>();
        for (String command : LINK_CACHE_COMMANDS) {
            counts.put(command, all.getOrDefault(command, 0L));
        }
        return counts;
    }

    private static long total(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    @Test
    void withoutItsNearCacheAGatewayReadsTheOwnerFromRedisOnEveryStickyCall() {
        List<Braid> logic = logicNodes(3);
        try (Braid gateway = onPlane(Braid.builder().service("gateway").nodeId("gateway-uncached").ioThreads(1)
                .nearCache(false)).start()) {
            awaitActive(gateway, logic);
            List<String> tokens = tokens("uncached", 20);
            Map<String, String> owners = new TreeMap<>();
            for (String token : tokens) {
                owners.put(token, call(gateway, token));
            }

            Map<String, Long> before = linkCacheCommandCalls();
            for (int round = 0; round < 5; round++) {
                for (String token : tokens) {
                    assertThat(call(gateway, token)).as("owner of %s", token).isEqualTo(owners.get(token));
                }
            }
            Map<String, Long> after = linkCacheCommandCalls();
            assertThat(after.get("hget") - before.get("hget"))
                    .as("HGETs (owner and epoch in one) of 100 sticky calls of linked tokens without a near cache"
                            + " (%s -> %s)", before, after)
                    .isEqualTo(100L);
        }
    }

    @Test
    void aWarmStickyCallSendsNoRedisCommand() {
        List<Braid> logic = logicNodes(3);
        Braid gateway = gateway("gateway-1");
        awaitActive(gateway, logic);
        List<String> tokens = tokens("warm", 100);

        Map<String, Long> beforeCold = linkCacheCommandCalls();
        Map<String, String> owners = new TreeMap<>();
        for (String token : tokens) {
            owners.put(token, call(gateway, token));
        }
        Map<String, Long> afterCold = linkCacheCommandCalls();
        long coldLookups = afterCold.get("hget") - beforeCold.get("hget");
        // One round trip per cold call: a claim for the picked node, which answers the owner either
        // way (its script's one HGET). Before, a cold call read the link and then linked it: 2 each.
        assertThat(coldLookups).as("HGETs of %d cold calls", tokens.size()).isEqualTo(tokens.size());

        // The near cache holds each entry for 10 s after it was written; the warm calls follow at once.
        long start = System.nanoTime();
        for (int round = 0; round < 10; round++) {
            for (String token : tokens) {
                assertThat(call(gateway, token)).isEqualTo(owners.get(token));
            }
        }
        long warmNanos = System.nanoTime() - start;
        Map<String, Long> afterWarm = linkCacheCommandCalls();

        System.out.printf("[%s] link-cache commands: %d for %d cold calls, %s -> %s for 1,000 warm calls (%.0f ms)%n",
                planeName(), total(afterCold) - total(beforeCold), tokens.size(), afterCold, afterWarm, warmNanos / 1e6);
        assertThat(afterWarm).as("link-cache commands Redis ran during 1,000 warm sticky calls").isEqualTo(afterCold);
    }
}
