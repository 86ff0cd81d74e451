package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.LinkWatcher;
import org.junit.jupiter.api.Test;

/** The contract in one JVM: members made from one {@link InMemoryLinks} are the processes of one cluster. */
class InMemoryLinkCacheTest extends LinkCacheContract {
    private final InMemoryLinks links = new InMemoryLinks();

    @Override
    protected LinkCache newMember() {
        return new InMemoryLinkCache(links);
    }

    @Override
    protected LinkCache newMember(LinkWatcher watcher) {
        return new InMemoryLinkCache(links, LinkCacheListener.NONE, watcher);
    }

    /** Nothing in memory is ever lost. */
    @Override
    protected void loseAllData() {
    }

    /** No channel to lag: every member sees each change at once, in order. */
    @Override
    protected boolean deliverLate(String token, String service, Link older) {
        return false;
    }

    @Test
    void separateLinksAreSeparateClusters() {
        LinkCache here = member();
        try (LinkCache elsewhere = new InMemoryLinkCache(new InMemoryLinks())) {
            here.link("player-1", node("logic-1", "logic"));

            assertThat(elsewhere.target("player-1", "logic")).isEmpty();
            assertThat(elsewhere.linkCount("logic-1")).isZero();
            assertThat(elsewhere.link("player-1", node("logic-2", "logic"))).isEqualTo("logic-2");
            assertThat(here.target("player-1", "logic")).contains("logic-1");
        }
    }

    @Test
    void closingOneMemberLeavesTheSharedLinksToTheOthers() {
        LinkCache closing = member();
        LinkCache staying = member();
        closing.link("player-1", node("logic-1", "logic"));

        closing.close();
        closing.close(); // idempotent

        assertThat(staying.target("player-1", "logic")).contains("logic-1");
        assertThat(staying.linkCount("logic-1")).isEqualTo(1);
    }

    @Test
    void needsItsLinks() {
        assertThatThrownBy(() -> new InMemoryLinkCache(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("links");
    }
}
