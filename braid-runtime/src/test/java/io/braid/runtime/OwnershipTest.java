package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Whom the owner-side gate refuses, and why: only the node that acted for a player gives it up
 * when the player is linked elsewhere; an unlinked player's open streams end but its next call is
 * served (it may rightly be linked here again before we hear so).
 */
class OwnershipTest {
    private final MovedTicker ticker = new MovedTicker();
    private final List<String> streamsEnded = new CopyOnWriteArrayList<>();

    private Ownership ownership() {
        Ownership ownership = new Ownership(SelfFence.unconditional(ticker), "logic-1", "logic", ticker);
        ownership.serve(() -> CompletableFuture.completedFuture(java.util.Set.of()),
                (token, why) -> streamsEnded.add(token), null);
        return ownership;
    }

    @Test
    void aNodeThatNeverHadThePlayerIsNotRefusedWhenItHearsItLinkedElsewhere() {
        Ownership ownership = ownership();
        ownership.changed("player-1", "logic", "logic-2"); // heard before any call came here
        assertThat(ownership.admits("player-1")).as("a call that arrives before we hear it was linked here").isTrue();
        assertThat(ownership.revocations()).isZero();
    }

    @Test
    void theNodeThatHadThePlayerGivesItUp() {
        Ownership ownership = ownership();
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.changed("player-1", "logic", "logic-2");
        assertThat(ownership.admits("player-1")).isFalse();
        assertThat(ownership.revocations()).isEqualTo(1);
    }

    @Test
    void aPlayerHeardLinkedHereIsOursWithoutACallFirst() {
        Ownership ownership = ownership();
        ownership.changed("player-1", "logic", "logic-1");
        ownership.changed("player-1", "logic", "logic-2");
        assertThat(ownership.admits("player-1")).isFalse();
    }

    @Test
    void anUnlinkedPlayersStreamsEndButItsNextCallIsServed() {
        Ownership ownership = ownership();
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.changed("player-1", "logic", null);
        assertThat(streamsEnded).containsExactly("player-1");
        assertThat(ownership.admits("player-1")).isTrue();
        assertThat(ownership.revocations()).isZero();
    }

    @Test
    void changesOfAnotherServiceAreNotOurs() {
        Ownership ownership = ownership();
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.changed("player-1", "chat", "chat-1");
        assertThat(ownership.admits("player-1")).isTrue();
        assertThat(streamsEnded).isEmpty();
    }
}
