package io.braid.discover.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Discover;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Races of a node's own record writes, run on one Redis and on a Cluster: the record is read
 * straight from the Redis node that holds its slot. All keys of one service share that slot.
 */
final class RecordRaces {
    private RecordRaces() {
    }

    /**
     * A heartbeat that read the node's old record just before {@code register()} changed it must
     * not write that old record over the new one: once DRAINING is in Redis, ACTIVE never comes back.
     * Each round registers the node ACTIVE then DRAINING with the round number as its weight, under a
     * 2 ms heartbeat, while a probe reads the record from Redis in a tight loop.
     */
    static void activeNeverComesBackAfterDraining(UnaryOperator<AutoCloseable> closeLater, RedisConnector connector,
                                                  Function<String, RedisProbe> probeOf) throws Exception {
        Discover member = (Discover) closeLater.apply(RedisDiscover.builder(connector).heartbeat(Duration.ofMillis(2))
                .ttl(Duration.ofSeconds(1)).build());
        String key = RedisDiscover.nodeKey("logic", "logic-1");
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.List<String> regressions = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        Thread reader = Thread.ofPlatform().name("record-reader").start(() -> {
            int drainingSeen = 0;
            int newestSeen = 0;
            try (RedisProbe probe = probeOf.apply(key)) {
                while (!done.get()) {
                    java.util.List<?> fields = (java.util.List<?>) probe.command("HMGET", key, "weight", "state");
                    reads.incrementAndGet();
                    if (fields.get(0) == null) {
                        continue;
                    }
                    int weight = Integer.parseInt(String.valueOf(fields.get(0)));
                    String state = String.valueOf(fields.get(1));
                    if (weight < newestSeen || (weight <= drainingSeen && state.equals("ACTIVE"))) {
                        regressions.add("round " + weight + " " + state + " after round " + newestSeen
                                + " (DRAINING seen up to round " + drainingSeen + ")");
                    }
                    newestSeen = Math.max(newestSeen, weight);
                    if (state.equals("DRAINING")) {
                        drainingSeen = Math.max(drainingSeen, weight);
                    }
                }
            }
        });
        int rounds = 400;
        try {
            for (int round = 1; round <= rounds; round++) {
                Node active = Node.of("logic-1", "logic", "127.0.0.1", 7001, round);
                member.register(active);
                member.register(active.withState(NodeState.DRAINING));
            }
            Thread.sleep(20); // a few more heartbeats after the last change
        } finally {
            done.set(true);
            reader.join(5_000);
        }
        System.out.printf("%d rounds, %d reads of the record, %d regressions%n", rounds, reads.get(), regressions.size());
        assertThat(regressions).as("records older than one already written").isEmpty();
        try (RedisProbe probe = probeOf.apply(key)) {
            assertThat(probe.command("HGET", key, "state")).isEqualTo("DRAINING");
        }
    }

    /** Likewise a heartbeat racing {@code deregister()} must not put the record back. */
    static void aLeftNodeNeverComesBack(UnaryOperator<AutoCloseable> closeLater, RedisConnector connector,
                                        Function<String, RedisProbe> probeOf) throws Exception {
        Discover member = (Discover) closeLater.apply(RedisDiscover.builder(connector).heartbeat(Duration.ofMillis(2))
                .ttl(Duration.ofSeconds(1)).build());
        int back = 0;
        int rounds = 200;
        try (RedisProbe probe = probeOf.apply(RedisDiscover.nodeKey("logic", "logic-1"))) {
            for (int round = 1; round <= rounds; round++) {
                String id = "logic-" + round;
                member.register(Node.of(id, "logic", "127.0.0.1", 7001, 100));
                member.deregister(id);
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(6);
                while (System.nanoTime() - until < 0) {
                    if (Long.valueOf(1).equals(probe.command("EXISTS", RedisDiscover.nodeKey("logic", id)))) {
                        back++;
                        break;
                    }
                }
            }
        }
        System.out.printf("%d rounds, %d records back after deregister%n", rounds, back);
        assertThat(back).as("deregistered records put back by a heartbeat").isZero();
    }
}
