package io.braid.bench.pekko;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pekko section's counter is a real thing: on a two-node cluster (three actor systems in this
 * JVM, talking Artery over loopback, so every message goes through {@link CounterSerializer}), each
 * entity counts every increment from a caller that hosts no entity, and the entities are spread
 * over both nodes.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PekkoCounterTest {
    private static final int ENTITIES = 32;
    private static final int ROUNDS = 3;

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    @AfterEach
    void closeAll() throws Exception {
        while (!opened.isEmpty()) {
            opened.pop().close();
        }
    }

    @Test
    void everyEntityCountsEachIncrementOnWhicheverNodeHoldsIt() throws Exception {
        PekkoMember a = open(PekkoMember.start("a", PekkoMember.ENTITY_ROLE, 0));
        open(PekkoMember.start("b", PekkoMember.ENTITY_ROLE, a.port()));
        PekkoMember caller = open(PekkoMember.start("caller", PekkoMember.CALLER_ROLE, a.port()));
        Await.until(Duration.ofSeconds(30), "the caller sees a and b Up",
                () -> caller.upWithRole(PekkoMember.ENTITY_ROLE) == 2);
        PekkoAskLoad asks = new PekkoAskLoad(caller, ENTITIES, new byte[64], Duration.ofSeconds(10));

        Set<String> nodes = new HashSet<>();
        for (int round = 1; round <= ROUNDS; round++) {
            for (int entity = 0; entity < ENTITIES; entity++) {
                PekkoCounter.Value value = asks.increment(entity).toCompletableFuture().get(15, TimeUnit.SECONDS);
                assertThat(value.count()).as("entity %d after %d increments", entity, round).isEqualTo(round);
                nodes.add(value.node());
            }
        }

        assertThat(nodes).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void aMemberRefusesARoleItDoesNotKnow() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PekkoMember.start("x", "gateway", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("role must be entity or caller, not gateway");
    }

    private <T extends AutoCloseable> T open(T resource) {
        opened.push(resource);
        return resource;
    }
}
