package io.braid.elector.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Elector;
import io.braid.api.Role;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisCluster;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The contract on a Redis Cluster whose masters have a replica each, where every acquisition and
 * renewal is confirmed by a replica (WAIT) before a node leads; and failovers during leadership,
 * polite and by kill -9, after which leaderships still never overlap and epochs only grow.
 */
class RedisReplicatedElectorTest extends ElectorContract {
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration CONTRACT_LEASE = Duration.ofMillis(900);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered(3, 1, NODE_TIMEOUT);

    private final List<RedisServer> paused = new ArrayList<>();

    /**
     * The contract's electors run on a 900 ms lease: the first leader of a new election waits out
     * one whole lease before it leads, 0.9 s here instead of the default 3 s in every test.
     */
    @Override
    protected Elector newElector(String service, String nodeId) {
        RedisConnector connector = closeAfterElectors(RedisConnector.connectCluster(redis.cluster().uris()));
        return RedisElector.builder(connector).service(service).nodeId(nodeId).lease(CONTRACT_LEASE).build();
    }

    /**
     * An elector with the default lease (3 s, renewal every 1 s, a replica's WAIT up to 300 ms): one
     * that keeps leading through a failover that takes a second or two.
     */
    private Elector defaultElector(String service, String nodeId) {
        RedisConnector connector = closeAfterElectors(RedisConnector.connectCluster(redis.cluster().uris()));
        return closeAfterElectors(RedisElector.builder(connector).service(service).nodeId(nodeId).build());
    }

    @Override
    protected Duration handoverBound() {
        return Duration.ofSeconds(1).plusMillis(300);
    }

    @AfterEach
    void healTheCluster() {
        paused.forEach(RedisServer::resume);
        for (RedisServer node : redis.cluster().nodes()) {
            if (!node.isRunning()) {
                node.restart();
            }
        }
        redis.cluster().awaitHealthy();
        redis.cluster().flushAll();
    }

    private static String leaderKey(String service) {
        return "braid:{elect:" + service + "}:leader";
    }

    @Test
    void aCandidateWhoseReplicaCannotConfirmTheLeaseDoesNotLeadUntilItCan() {
        RedisCluster cluster = redis.cluster();
        RedisServer master = cluster.masterOf(leaderKey("stalled"));
        RedisServer replica = cluster.replicasOf(master).get(0);
        replica.pause(); // SIGSTOP: its connection stays open, so the master still counts it, but it confirms nothing
        paused.add(replica);

        Elector a = elector("stalled", "a"); // the contract's lease: renewal every 300 ms, WAIT up to 90 ms
        try (RedisProbe probe = master.probe()) {
            Await.until(Duration.ofSeconds(5), "a's acquisition reaches the master",
                    () -> probe.command("GET", leaderKey("stalled")) != null);
            assertThat((String) probe.command("GET", leaderKey("stalled"))).startsWith("a|");
        }
        // The lease written on the master but on no replica: never LEADER, neither when a new election's
        // first leader would lead (one lease after it took the lease) nor in three renewal intervals after.
        assertThat(Await.poll(CONTRACT_LEASE.multipliedBy(2), a::isLeader))
                .as("a leads on a lease no replica has")
                .isFalse();
        assertThat(a.role()).isEqualTo(Role.WAIT);

        replica.resume();
        paused.remove(replica);
        Await.until(Duration.ofSeconds(5), "a leads once the replica confirms", a::isLeader);
    }

    @Test
    void leadershipsNeverOverlapAndEpochsOnlyGrowAcrossAManualFailoverAndAKilledMaster() throws Exception {
        RedisCluster cluster = redis.cluster();
        try (LeadershipHistory history = new LeadershipHistory()) {
            List<Elector> three = List.of(defaultElector("chores", "a"), defaultElector("chores", "b"),
                    defaultElector("chores", "c"));
            for (int i = 0; i < three.size(); i++) {
                history.watch(Character.toString('a' + i), three.get(i));
            }
            await("one leader", Duration.ofSeconds(5), () -> leaders(three) == 1);
            long firstEpoch = three.stream().filter(Elector::isLeader).findFirst().orElseThrow().epoch();

            RedisServer master = cluster.masterOf(leaderKey("chores"));
            long start = System.nanoTime();
            long politeAt = System.currentTimeMillis();
            RedisServer promoted = cluster.failover(master);
            await("one leader after the manual failover", Duration.ofSeconds(20), () -> leaders(three) == 1);
            System.out.printf("manual failover of the lease's master: cluster settled in %d ms%n",
                    (System.nanoTime() - start) / 1_000_000);

            start = System.nanoTime();
            long killedAt = System.currentTimeMillis();
            cluster.killMaster(promoted);
            await("one leader after the killed master", Duration.ofSeconds(20), () -> leaders(three) == 1);
            System.out.printf("kill -9 of the lease's master: cluster settled in %d ms%n",
                    (System.nanoTime() - start) / 1_000_000);

            List<LeadershipHistory.Interval> intervals = history.intervals();
            System.out.println("leaderships: " + intervals);
            System.out.printf("longest time without a leader: after the manual failover %d ms, after the kill %d ms%n",
                    longestGap(intervals, politeAt, killedAt), longestGap(intervals, killedAt, Long.MAX_VALUE));
            Elector leader = three.stream().filter(Elector::isLeader).findFirst().orElseThrow();
            assertThat(leader.epoch()).isGreaterThanOrEqualTo(firstEpoch);
            assertThat(history.violations()).isEmpty();
        }
    }

    /** The longest stretch between two leaderships that starts in [from, to). */
    private static long longestGap(List<LeadershipHistory.Interval> intervals, long from, long to) {
        long longest = 0;
        for (int i = 1; i < intervals.size(); i++) {
            long end = intervals.get(i - 1).toMillis();
            if (end >= from && end < to) {
                longest = Math.max(longest, intervals.get(i).fromMillis() - end);
            }
        }
        return longest;
    }
}
