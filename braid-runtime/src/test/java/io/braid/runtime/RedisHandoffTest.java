package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Link;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link HandoffTest} on one real Redis, and Redis frozen (SIGSTOP) while the drain hands players
 * over: a move whose outcome is not known is asked again until it is, so when Redis answers again
 * every player has exactly one owner, no click it was told about is lost (its count never goes
 * back), and no two copies of a player ever served at once. While Redis is frozen, callers see
 * UNAVAILABLE or DEADLINE_EXCEEDED (the nodes fence themselves), and nothing else.
 */
class RedisHandoffTest extends HandoffTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @Override
    protected Braid.Builder onPlane(Braid.Builder builder) {
        // Registrations outlive the freeze below: the cluster must not take the nodes for gone.
        return builder.redis(redis.server().uri()).heartbeat(Duration.ofMillis(500), Duration.ofSeconds(6));
    }

    @Test
    void redisFrozenWhileTheDrainMovesPlayersLeavesEachWithOneOwnerAndEveryToldClick() throws Exception {
        Braid a = logic("logic-a", true);
        Braid gateway = gateway();
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        Map<String, Long> told = playersClickedOnce(gateway);
        List<String> tokens = List.copyOf(told.keySet());
        Braid b = logic("logic-b", true);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        Clicking clicking = new Clicking(gateway, told, false, Set.of("UNAVAILABLE", "DEADLINE_EXCEEDED"));
        try (clicking) {
            clicking.flowFor(200, "clicks flow");
            CompletableFuture<Void> drained = a.drain();
            redis.server().pause();
            try {
                // Frozen longer than one step of a move may take: its outcome is not known, and asked again.
                Await.poll(Handoff.STEP_TIMEOUT.plusMillis(700), drained::isDone);
            } finally {
                redis.server().resume();
            }
            drained.get(30, TimeUnit.SECONDS);
            clicking.flowFor(200, "clicks flow after the drain");
        }

        assertThat(clicking.failures).as("counts that went back (a click lost), or failures other than UNAVAILABLE "
                + "and DEADLINE_EXCEEDED").isEmpty();
        assertThat(overlaps).as("pieces of one player's work that overlapped (two owners)").hasValue(0);
        for (String token : tokens) {
            assertThat(click(gateway, token)).as("%s's count", token).isGreaterThan(told.get(token));
            Link link = gateway.linkCache().linkOf(token, "logic").orElseThrow();
            assertThat(link.nodeId()).isEqualTo("logic-b");
        }
        assertThat(b.discover().nodes("logic")).extracting(n -> n.id()).containsExactly("logic-b");
    }
}
