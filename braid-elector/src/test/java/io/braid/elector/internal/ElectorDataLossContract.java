package io.braid.elector.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Role;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Redis loses the election's data under a running election (FLUSHALL, a restart without
 * persistence): at no moment do two nodes lead, no node's epoch ever goes down, and the next
 * leader's epoch is above every epoch a live node saw, also when a node joins right after the loss.
 * Run on one Redis and on a Redis Cluster.
 *
 * <p>Each loss is made right after the leader renewed, so the leader's next renewal is a whole
 * interval away and another node is likely to reach Redis first: the moment that used to crown a
 * second leader while the first still led on its lease.
 */
abstract class ElectorDataLossContract {
    static final Duration LEASE = Duration.ofMillis(900);
    /** The epoch key of a cluster that has run a while; the first leader of a test gets the next one. */
    private static final long EPOCH_OF_A_RUNNING_CLUSTER = 41;
    private static final int ROUNDS = 3;
    private static final Duration SETTLE = Duration.ofSeconds(15);

    private final List<AutoCloseable> resources = new ArrayList<>();

    /** A new connector to the deployment under test. */
    protected abstract RedisConnector connect();

    /** A probe on the node that serves {@code key}. */
    protected abstract RedisProbe probe(String key);

    /** FLUSHALL on every node that holds data. */
    protected abstract void flushAll();

    /** Restarts the node that serves {@code key} without persistence: it comes back empty. */
    protected abstract void restartWithoutData(String key);

    /**
     * The lease in the restart test: longer than the time the restarted node takes to answer again,
     * or the old leader's lease runs out during the outage and no overlap could ever be seen.
     */
    protected Duration restartLease() {
        return LEASE;
    }

    static String leaderKey(String service) {
        return "braid:{elect:" + service + "}:leader";
    }

    static String epochKey(String service) {
        return "braid:{elect:" + service + "}:epoch";
    }

    private <T extends AutoCloseable> T closeLater(T resource) {
        resources.add(resource);
        return resource;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private RedisElector elector(RedisConnector connector, String service, String node, Duration lease) {
        return closeLater(RedisElector.builder(connector).service(service).nodeId(node).lease(lease).build());
    }

    private List<RedisElector> three(String service, Duration lease, RoleSampler sampler) {
        try (RedisProbe probe = probe(epochKey(service))) {
            probe.command("SET", epochKey(service), Long.toString(EPOCH_OF_A_RUNNING_CLUSTER));
        }
        List<RedisElector> electors = new ArrayList<>();
        for (String node : List.of("a", "b", "c")) {
            RedisElector elector = elector(closeLater(connect()), service, node, lease);
            sampler.watch(node, elector);
            electors.add(elector);
        }
        return electors;
    }

    /** Waits until one node leads with an epoch above {@code floor} and all others follow it, agreeing on that epoch. */
    private static RedisElector awaitOneLeaderAbove(long floor, List<RedisElector> electors) {
        Supplier<String> state = () -> electors.stream().map(e -> e.nodeId() + "=" + e.role() + "@" + e.epoch()).toList()
                + " (want one LEADER above epoch " + floor + ", the others FOLLOWER at its epoch)";
        Await.until(SETTLE, state, () -> {
            List<RedisElector> leaders = electors.stream().filter(RedisElector::isLeader).toList();
            return leaders.size() == 1 && leaders.get(0).epoch() > floor && electors.stream()
                    .allMatch(e -> e == leaders.get(0) || (e.role() == Role.FOLLOWER && e.epoch() == leaders.get(0).epoch()));
        });
        return electors.stream().filter(RedisElector::isLeader).findFirst().orElseThrow();
    }

    /** Runs {@code loss} right after the leader renewed its lease (its key's PTTL jumps back up). */
    private void rightAfterARenewal(String service, Runnable loss) {
        String key = leaderKey(service);
        try (RedisProbe probe = probe(key)) {
            long[] previous = {(Long) probe.command("PTTL", key)};
            Await.until(Duration.ofSeconds(5), "the leader renews " + key, () -> {
                long ttl = (Long) probe.command("PTTL", key);
                boolean renewed = ttl > previous[0] + 100;
                previous[0] = ttl;
                return renewed;
            });
        }
        loss.run();
    }

    private void survivesDataLoss(String service, Duration lease, Runnable loss) throws Exception {
        try (RoleSampler sampler = new RoleSampler()) {
            List<RedisElector> electors = three(service, lease, sampler);
            awaitOneLeaderAbove(EPOCH_OF_A_RUNNING_CLUSTER, electors);
            for (int round = 1; round <= ROUNDS; round++) {
                sampler.awaitRound();
                long seenBefore = sampler.highestEpoch();
                long lostAt = System.nanoTime();
                rightAfterARenewal(service, loss);
                RedisElector next = awaitOneLeaderAbove(seenBefore, electors);
                sampler.awaitRound();
                System.out.printf("%s round %d: %s leads at epoch %d (before the loss: %d), %.0f ms after the loss%n",
                        getClass().getSimpleName(), round, next.nodeId(), next.epoch(), seenBefore,
                        (System.nanoTime() - lostAt) / 1e6);
                assertThat(sampler.leaderships())
                        .filteredOn(leadership -> leadership.fromNanos() > lostAt)
                        .as("every leadership that began after the loss has an epoch above %d", seenBefore)
                        .allMatch(leadership -> leadership.epoch() > seenBefore);
            }
            System.out.println("leaderships: " + sampler.leaderships());
            assertThat(sampler.overlaps()).as("moments when two nodes led").isEmpty();
            assertThat(sampler.epochFalls()).as("epochs that went down").isEmpty();
        }
    }

    @Test
    void aFlushAllNeverCrownsTwoLeadersNorLowersAnEpoch() throws Exception {
        survivesDataLoss("flushed", LEASE, this::flushAll);
    }

    @Test
    void aRestartWithoutDataNeverCrownsTwoLeadersNorLowersAnEpoch() throws Exception {
        survivesDataLoss("restarted", restartLease(), () -> restartWithoutData(leaderKey("restarted")));
    }

    @Test
    void aNodeJoiningRightAfterAFlushNeverReportsAnEpochBelowWhatTheOthersSaw() throws Exception {
        String service = "joined";
        try (RoleSampler sampler = new RoleSampler()) {
            List<RedisElector> electors = three(service, LEASE, sampler);
            awaitOneLeaderAbove(EPOCH_OF_A_RUNNING_CLUSTER, electors);
            sampler.awaitRound();
            long seenBefore = sampler.highestEpoch();
            RedisConnector ready = closeLater(connect()); // connected before the flush, so it talks at once after it

            rightAfterARenewal(service, this::flushAll);
            RedisElector late = elector(ready, service, "late", LEASE);
            sampler.watch("late", late);

            List<RedisElector> four = Stream.concat(electors.stream(), Stream.of(late)).toList();
            RedisElector next = awaitOneLeaderAbove(seenBefore, four);
            sampler.awaitRound();
            System.out.printf("%s: %s leads at epoch %d after the flush (before: %d); the late node's lowest epoch %d%n",
                    getClass().getSimpleName(), next.nodeId(), next.epoch(), seenBefore, sampler.lowestEpoch("late"));
            assertThat(sampler.lowestEpoch("late")).as("the lowest epoch the late node reported").isGreaterThan(seenBefore);
            for (String node : List.of("a", "b", "c")) {
                assertThat(sampler.lowestEpoch(node)).as("lowest epoch of %s", node).isGreaterThan(EPOCH_OF_A_RUNNING_CLUSTER);
            }
            assertThat(sampler.overlaps()).as("moments when two nodes led").isEmpty();
            assertThat(sampler.epochFalls()).as("epochs that went down").isEmpty();
        }
    }
}
