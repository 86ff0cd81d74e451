package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The leader's pub-sub chore, run by a real node on Redis. */
class PubsubChoresTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    /**
     * What a node killed -9 leaves behind: its ephemeral channel, given the topic's first five
     * messages and never closed, with its last mark long stale. It pins the topic until the leader's
     * chore removes it; then the chore trims what no channel needs. A durable channel without
     * consumers or marks stays, with the messages it still needs.
     */
    @Test
    void theLeadersChoreRemovesACrashedNodesEphemeralChannelThenTrims() throws Exception {
        try (RedisProbe probe = redis.server().probe()) {
            probe.command("FLUSHALL");
            for (int i = 0; i < 5; i++) {
                probe.command("XADD", "braid:{topic:rooms}", "*", "b", "m" + i);
                probe.command("XADD", "braid:{topic:mail}", "*", "b", "m" + i);
            }
            probe.command("XGROUP", "CREATE", "braid:{topic:rooms}", "crashed-node", "0");
            probe.command("XGROUP", "CREATE", "braid:{topic:rooms}", "audit", "$");
            // Marked alive at second 1 of 1970, with a limit of 1 s: long gone.
            probe.command("HSET", "braid:{topic:rooms}:ephemeral", "crashed-node", "1000:1000");
            probe.command("XGROUP", "CREATE", "braid:{topic:mail}", "archive", "0");
            probe.command("SADD", "braid:topics", "rooms", "mail");

            // A 900 ms lease: a new election's first leader leads after one lease, not the default 3 s.
            try (Braid leader = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1)
                    .redis(redis.server().uri()).lease(Duration.ofMillis(900)).trimInterval(Duration.ofMillis(100))
                    .start()) {
                Await.until(WAIT, "the node leads", () -> leader.elector().isLeader());
                Await.until(WAIT, "the crashed node's channel removed and its topic trimmed",
                        () -> groups(probe, "braid:{topic:rooms}").equals(List.of("audit"))
                                && ((Long) probe.command("XLEN", "braid:{topic:rooms}")) == 0);
                assertThat((Long) probe.command("HLEN", "braid:{topic:rooms}:ephemeral")).isZero();
                assertThat(groups(probe, "braid:{topic:mail}")).containsExactly("archive");
                assertThat((Long) probe.command("XLEN", "braid:{topic:mail}")).as("kept for the durable channel")
                        .isEqualTo(5);
            }
        }
    }

    private static List<String> groups(RedisProbe probe, String key) {
        List<?> groups = (List<?>) probe.command("XINFO", "GROUPS", key);
        return groups.stream().map(group -> String.valueOf(((List<?>) group).get(1))).toList();
    }
}
