package io.braid.elector.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Elector;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InMemoryElectorTest extends ElectorContract {
    private final InMemoryElections elections = new InMemoryElections();

    @Override
    protected Elector newElector(String service, String nodeId) {
        return new InMemoryElector(elections, service, nodeId);
    }

    @Override
    protected Duration handoverBound() {
        return Duration.ofMillis(200);
    }

    @Test
    void theLongestWaitingCandidateTakesOver() throws Exception {
        Elector first = elector("logic", "a");
        Elector second = elector("logic", "b");
        Elector third = elector("logic", "c");

        first.close();

        assertThat(second.isLeader()).isTrue();
        assertThat(third.isLeader()).isFalse();
        assertThat(third.leader()).contains("b");
    }
}
