package io.braid.linkcache.internal;

import static io.braid.linkcache.internal.LinkCacheContract.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.PlayerStore;
import org.junit.jupiter.api.Test;

/** The contract in one JVM: members share one {@link InMemoryPlayerStore} on one {@link InMemoryLinks}. */
class InMemoryPlayerStoreTest extends PlayerStoreContract {
    private final InMemoryLinks links = new InMemoryLinks();
    private final InMemoryPlayerStore store = new InMemoryPlayerStore(links);

    @Override
    protected Member newMember() {
        return new Member(store, new InMemoryLinkCache(links));
    }

    @Test
    void aStoreOnOtherLinksIsAnotherCluster() {
        PlayerStore here = member().store();
        PlayerStore elsewhere = new InMemoryPlayerStore(new InMemoryLinks());

        assertThat(await(here.saveAsync("logic", "player-1", 1, new byte[] {1}))).isTrue();
        assertThat(await(elsewhere.loadAsync("logic", "player-1"))).isEmpty();
    }
}
