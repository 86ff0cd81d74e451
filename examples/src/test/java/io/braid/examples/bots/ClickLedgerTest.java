package io.braid.examples.bots;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The clicks-lost check on crafted answers: what a player was told must stay counted. */
class ClickLedgerTest {
    @Test
    void answersThatCountOnByOneAreNoViolation() {
        ClickLedger ledger = new ClickLedger();
        ledger.loggedIn(0);
        ledger.clicked(1);
        ledger.clicked(2);
        ledger.clicked(3);
        ledger.finalCount(3);

        assertThat(ledger.violations()).isZero();
        assertThat(ledger.examples()).isEmpty();
    }

    @Test
    void aCounterThatWentBackAfterAMoveIsALostClick() {
        ClickLedger ledger = new ClickLedger();
        ledger.loggedIn(0);
        ledger.clicked(1);
        ledger.clicked(2);
        ledger.clicked(1); // the new owner began anew: clicks 1 and 2 are gone

        assertThat(ledger.violations()).isEqualTo(1);
        assertThat(ledger.examples()).singleElement().asString().contains("told 2").contains("answered 1");
    }

    @Test
    void aFinalCountBelowTheLastToldIsALostClick() {
        ClickLedger ledger = new ClickLedger();
        ledger.loggedIn(5);
        ledger.clicked(6);
        ledger.finalCount(5);

        assertThat(ledger.violations()).isEqualTo(1);
        assertThat(ledger.examples()).singleElement().asString().contains("final count answered 5");
    }

    @Test
    void aClickWhoseAnswerNeverCameMayOrMayNotHaveCountedButNoMore() {
        ClickLedger ledger = new ClickLedger();
        ledger.loggedIn(0);
        ledger.clicked(1);
        ledger.unanswered(); // counted by the node, answer lost (a timeout)
        ledger.clicked(3);
        ledger.unanswered(); // refused before its handler ran
        ledger.clicked(4);
        ledger.unanswered();
        ledger.finalCount(5);
        assertThat(ledger.violations()).isZero();

        ledger.clicked(7); // one more than it sent: a click counted twice
        assertThat(ledger.violations()).isEqualTo(1);
        assertThat(ledger.examples()).singleElement().asString().contains("told 5").contains("answered 7");
    }

    @Test
    void nothingIsCheckedBeforeTheLogin() {
        ClickLedger ledger = new ClickLedger();
        ledger.clicked(42);
        ledger.loggedIn(42);
        ledger.clicked(43);

        assertThat(ledger.violations()).isZero();
    }
}
