package io.braid.bench.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClickLedgerTest {

    @Test
    void countsThatMatchTheAcknowledgedClicksLoseNothing() {
        ClickLedger ledger = new ClickLedger(3);
        ledger.acknowledged(0);
        ledger.acknowledged(0);
        ledger.acknowledged(2);

        ClickLedger.Tally tally = ledger.tally(new long[] {2, 0, 1});

        assertThat(tally).isEqualTo(new ClickLedger.Tally(3, 0, 0, 0, 0));
        assertThat(tally.intact()).isTrue();
        assertThat(ledger.total()).isEqualTo(3);
    }

    @Test
    void aCountBelowTheAcknowledgedClicksIsLostClicksAndOneAboveIsClicksThatFailedButCounted() {
        ClickLedger ledger = new ClickLedger(4);
        for (int i = 0; i < 5; i++) {
            ledger.acknowledged(0);
            ledger.acknowledged(1);
        }
        ledger.acknowledged(3);

        // player 0 came back afresh (all 5 lost), player 1 counted one click whose call failed,
        // player 2 matches, player 3 lost its only click
        ClickLedger.Tally tally = ledger.tally(new long[] {0, 6, 0, 0});

        assertThat(tally.acknowledged()).isEqualTo(11);
        assertThat(tally.lost()).isEqualTo(6);
        assertThat(tally.playersShort()).isEqualTo(2);
        assertThat(tally.extra()).isEqualTo(1);
        assertThat(tally.playersOver()).isEqualTo(1);
        assertThat(tally.intact()).isFalse();
    }

    @Test
    void countsOfAnotherNumberOfPlayersAreRefused() {
        assertThatThrownBy(() -> new ClickLedger(2).tally(new long[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 players");
    }
}
