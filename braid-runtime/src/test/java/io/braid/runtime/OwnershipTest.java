package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ForkJoinPool;
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

    /**
     * A cold call's first arrival (admits) and its new link heard here (changed) write a token into
     * the gate's memory; that memory's upkeep (Caffeine's maintenance) runs on the thread that
     * wrote, as the near cache's does, not as a task handed to the common pool, which would wake
     * another thread for every cold call on the owner. The common pool's steal count counts the
     * tasks its workers took from submitters; nothing else in this test submits any.
     */
    @Test
    void admittingNewTokensHandsNoTaskToAnotherThread() {
        Ownership ownership = ownership();
        ownership.admits("player-warm");
        long before = ForkJoinPool.commonPool().getStealCount();
        for (int i = 0; i < 2_000; i++) {
            assertThat(ownership.admits("player-" + i)).isTrue();
            ownership.changed("player-" + i, "logic", "logic-1", 100 + i);
            Thread.onSpinWait();
        }
        long handedOff = ForkJoinPool.commonPool().getStealCount() - before;
        assertThat(handedOff).as("tasks the common pool ran while 2,000 new tokens were admitted here").isLessThan(5);
    }

    @Test
    void aNodeThatNeverHadThePlayerIsNotRefusedWhenItHearsItLinkedElsewhere() {
        Ownership ownership = ownership();
        ownership.changed("player-1", "logic", "logic-2", 1); // heard before any call came here
        assertThat(ownership.admits("player-1")).as("a call that arrives before we hear it was linked here").isTrue();
        assertThat(ownership.revocations()).isZero();
    }

    @Test
    void theNodeThatHadThePlayerGivesItUp() {
        Ownership ownership = ownership();
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.changed("player-1", "logic", "logic-2", 2);
        assertThat(ownership.admits("player-1")).isFalse();
        assertThat(ownership.revocations()).isEqualTo(1);
    }

    @Test
    void aPlayerHeardLinkedHereIsOursWithoutACallFirst() {
        Ownership ownership = ownership();
        ownership.changed("player-1", "logic", "logic-1", 3);
        ownership.changed("player-1", "logic", "logic-2", 4);
        assertThat(ownership.admits("player-1")).isFalse();
    }

    @Test
    void anUnlinkedPlayersStreamsEndButItsNextCallIsServed() {
        Ownership ownership = ownership();
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.changed("player-1", "logic", null, 5);
        assertThat(streamsEnded).containsExactly("player-1");
        assertThat(ownership.admits("player-1")).isTrue();
        assertThat(ownership.revocations()).isZero();
    }

    @Test
    void aMoveOrRemovalOlderThanTheEpochThisNodeActsUnderIsIgnored() {
        Ownership ownership = ownership();
        List<String> told = new CopyOnWriteArrayList<>();
        ownership.tellPlayers((token, why, epoch) -> told.add(token + " " + why + " " + epoch), java.util.Set::of);
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.actingUnder("player-1", 30); // a player activated under the link's epoch 30
        ownership.changed("player-1", "logic", "logic-2", 20); // a move before it, heard late
        ownership.changed("player-1", "logic", "logic-2", 30); // another owner under its very epoch: not newer
        ownership.changed("player-1", "logic", null, 29);      // the removal of an older link
        assertThat(ownership.admits("player-1")).as("refused after an old change").isTrue();
        assertThat(told).as("players told of an old change").isEmpty();
        assertThat(streamsEnded).isEmpty();
        ownership.changed("player-1", "logic", "logic-2", 31);
        assertThat(ownership.admits("player-1")).as("a newer move still gives it up").isFalse();
        assertThat(told).containsExactly("player-1 MOVED 31");
    }

    @Test
    void heardLinkedHereUnderAnEpochOlderMovesAreIgnoredAndItsOwnRemovalIsTheLeave() {
        Ownership ownership = ownership();
        List<String> told = new CopyOnWriteArrayList<>();
        ownership.tellPlayers((token, why, epoch) -> told.add(token + " " + why + " " + epoch), java.util.Set::of);
        ownership.changed("player-1", "logic", "logic-1", 40);
        ownership.changed("player-1", "logic", "logic-2", 39);
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.changed("player-1", "logic", null, 40);
        // Linked here under 40: the players end an activation under a lower epoch only.
        assertThat(told).containsExactly("player-1 MOVED 40", "player-1 LEFT 40");
        assertThat(streamsEnded).containsExactly("player-1");
    }

    @Test
    void changesOfAnotherServiceAreNotOurs() {
        Ownership ownership = ownership();
        assertThat(ownership.admits("player-1")).isTrue();
        ownership.changed("player-1", "chat", "chat-1", 6);
        assertThat(ownership.admits("player-1")).isTrue();
        assertThat(streamsEnded).isEmpty();
    }
}
