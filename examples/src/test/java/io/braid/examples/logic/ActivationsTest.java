package io.braid.examples.logic;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.PlayerStates.Deactivation;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The served-by-two-nodes-at-once check on crafted records, and how an activation's record is made. */
class ActivationsTest {
    @Test
    void twoActivationsOfOneTokenOnTwoNodesThatServedAtOverlappingTimesAreCaught() {
        List<Activations.Served> served = List.of(
                new Activations.Served("ann", "logic-1", 3, 100, 200),
                new Activations.Served("ann", "logic-2", 4, 150, Long.MAX_VALUE),
                new Activations.Served("bob", "logic-1", 3, 100, 200));

        List<Activations.Overlap> overlaps = Activations.servedByTwoAtOnce(served);

        assertThat(overlaps).singleElement().satisfies(o -> {
            assertThat(o.first().node()).isEqualTo("logic-1");
            assertThat(o.second().node()).isEqualTo("logic-2");
            assertThat(o.toString()).contains("ann");
        });
    }

    @Test
    void oneAfterTheOtherOrOnOneNodeIsNoOverlap() {
        List<Activations.Served> served = List.of(
                new Activations.Served("ann", "logic-1", 3, 100, 200),
                new Activations.Served("ann", "logic-2", 4, 201, 300),
                new Activations.Served("ann", "logic-3", 5, 300, Long.MAX_VALUE),
                new Activations.Served("bob", "logic-1", 3, 100, 200),
                new Activations.Served("bob", "logic-1", 6, 150, 250));

        assertThat(Activations.servedByTwoAtOnce(served)).isEmpty();
    }

    @Test
    void anActivationServesFromItsFirstHandlerUntilItsDeactivationOrTheSnapshotThatHandedItOver() {
        Activations activations = new Activations();
        Activations.Entry neverServed = activations.begin("cid", "logic-1", 1, 10);
        neverServed.end(Deactivation.MOVED, 20);

        Activations.Entry handedOver = activations.begin("ann", "logic-1", 3, 100);
        handedOver.serving(110);
        handedOver.serving(120);
        handedOver.snapshotTaken(130); // the lane runs nothing of ann after this until the deactivation
        handedOver.end(Deactivation.MOVED, 190);

        Activations.Entry stayedThenLeft = activations.begin("bob", "logic-1", 3, 100);
        stayedThenLeft.serving(110);
        stayedThenLeft.snapshotTaken(130); // no target took bob: it stayed and served again
        stayedThenLeft.serving(150);
        stayedThenLeft.end(Deactivation.LEFT, 170);

        Activations.Entry open = activations.begin("eve", "logic-1", 3, 100);
        open.serving(140);

        assertThat(activations.served()).containsExactlyInAnyOrder(
                new Activations.Served("ann", "logic-1", 3, 110, 130),
                new Activations.Served("bob", "logic-1", 3, 110, 170),
                new Activations.Served("eve", "logic-1", 3, 140, Long.MAX_VALUE));
        assertThat(activations.ended(Deactivation.MOVED)).isEqualTo(2);
        assertThat(activations.ended(Deactivation.LEFT)).isEqualTo(1);
        assertThat(activations.active()).isEqualTo(1);
    }
}
