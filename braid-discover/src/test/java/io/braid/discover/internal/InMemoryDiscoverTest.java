package io.braid.discover.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Discover;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InMemoryDiscoverTest extends DiscoverContract {
    private final InMemoryMembership membership = new InMemoryMembership();

    @Override
    protected Discover newMember() {
        return new InMemoryDiscover(membership);
    }

    @Override
    protected void crash(Discover member) {
        for (String service : member.services()) {
            for (var node : member.nodes(service)) {
                if (node.id().equals("logic-2")) {
                    membership.evict(node.id());
                }
            }
        }
    }

    @Override
    protected Duration crashDetectionBound() {
        return Duration.ofSeconds(1);
    }

    @Test
    void aNodeIdBelongsToTheMemberThatRegisteredIt() {
        Discover first = member();
        Discover second = member();
        first.register(node("logic-1", "logic", 7001));

        assertThatThrownBy(() -> second.register(node("logic-1", "logic", 7009)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("logic-1");
        second.deregister("logic-1");
        assertThat(first.nodes("logic")).hasSize(1);
    }

    @Test
    void separateMembershipsAreSeparateClusters() {
        Discover here = member();
        Discover elsewhere = new InMemoryDiscover(new InMemoryMembership());
        try {
            here.register(node("logic-1", "logic", 7001));
            assertThat(elsewhere.nodes("logic")).isEmpty();
        } finally {
            elsewhere.close();
        }
    }
}
