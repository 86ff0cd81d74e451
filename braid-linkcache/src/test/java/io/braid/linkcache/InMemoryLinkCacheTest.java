package io.braid.linkcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.LinkCache;
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
