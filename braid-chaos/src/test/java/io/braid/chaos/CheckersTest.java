package io.braid.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Code;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checkers flag what they promise to flag, and only that, on hand-made histories. */
class CheckersTest {
    private static final ChaosRun.Settings SETTINGS =
            ChaosRun.Settings.defaults(1, false, Duration.ZERO, Path.of("unused"));

    @Test
    void twoNodesWorkingForOneTokenAtOnceIsAViolation() {
        History history = new History();
        history.accept("S logic-1 player-1 100 200");
        history.accept("S logic-2 player-1 150 160");
        history.accept("S logic-2 player-2 150 160");

        assertThat(Checkers.oneOwner(history)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("player-1", "logic-1", "logic-2"));
    }

    @Test
    void theTimeANodeWasFrozenIsNotWork() {
        History history = new History();
        // logic-1's handler began at 100, was frozen from 150 to 1000 and returned at 1005;
        // logic-2 took the player over meanwhile.
        history.accept("S logic-1 player-1 100 1005");
        history.accept("S logic-2 player-1 400 410");
        history.frozen.add(new History.Frozen("logic-1", 150, 1000));
        assertThat(Checkers.oneOwner(history)).isEmpty();

        // ...but the work after the thaw still counts.
        history.accept("S logic-2 player-1 1001 1002");
        assertThat(Checkers.oneOwner(history)).hasSize(1);
    }

    @Test
    void leadershipsMayNotOverlapAndEpochsMustGrowPerService() {
        History history = new History();
        history.accept("L logic-1 logic 1 100 200");
        history.accept("L logic-2 logic 2 300 400");
        history.accept("L gateway-1 gateway 1 150 350"); // another service: its own election
        assertThat(Checkers.oneLeader(history.leaderships())).isEmpty();

        history.accept("L logic-3 logic 2 390 500");
        assertThat(Checkers.oneLeader(history.leaderships())).extracting(Checkers.Violation::detail)
                .anySatisfy(d -> assertThat(d).contains("overlaps"))
                .anySatisfy(d -> assertThat(d).contains("epoch did not grow"));
    }

    @Test
    void anAcknowledgedMessageNotHandledOnEveryChannelIsLostButDuplicatesAreNot() {
        History history = new History();
        history.published.add(new History.Published("1", "1-0", 10));
        history.published.add(new History.Published("2", "2-0", 20));
        history.accept("H logic-1 ledger 1-0 1 30 1");
        history.accept("H logic-2 ledger 1-0 1 40 2");
        history.accept("H logic-2 ledger 2-0 2 50 1");
        history.accept("H gateway-1 audit 2-0 2 50 1");

        assertThat(Checkers.noLoss(history)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("1-0", "audit"));
    }

    @Test
    void aCallPastItsDeadlineIsLateUnlessTheTimekeeperItselfStalled() {
        History history = new History();
        history.calls.add(new History.BotCall("player-1", 0, 3_000_000, 2_000_000, Code.DEADLINE_EXCEEDED, false));
        assertThat(Checkers.deadlines(history, SETTINGS)).hasSize(1);

        history.stalls.add(new History.Stall(1_000_000, 1_600_000));
        assertThat(Checkers.deadlines(history, SETTINGS)).isEmpty();

        history.calls.add(new History.BotCall("player-2", 0, 7_000_000, 2_000_000, Code.DEADLINE_EXCEEDED, true));
        assertThat(Checkers.deadlines(history, SETTINGS)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("never completed"));

        history.warmedUpAt = 1; // both started during the warm-up of a cold cluster
        assertThat(Checkers.deadlines(history, SETTINGS)).isEmpty();
    }

    @Test
    void aFaultWithoutFullServiceWithinTheBoundIsAViolation() {
        History history = new History();
        history.faults.add(new FaultRecord(1, FaultKind.KILL_LOGIC, "logic-1", 0, 10, 20, 30));
        history.faults.add(new FaultRecord(2, FaultKind.REDIS_PAUSE, "redis-server", 40, 50, 0, 0));

        assertThat(Checkers.healing(history)).extracting(Checkers.Violation::detail).singleElement()
                .satisfies(d -> assertThat(d).contains("fault 2"));
    }

    @Test
    void theSameSeedGivesTheSameScheduleAndTheShortOneHasEveryKindOnce() {
        Schedule.Timing timing = new Schedule.Timing(Duration.ofSeconds(2), Duration.ofMillis(1_500));
        List<Schedule.Fault> first = drain(Schedule.shortSchedule(7, timing, FaultKind.SINGLE_REDIS));
        assertThat(first).extracting(Schedule.Fault::kind).containsExactlyInAnyOrderElementsOf(FaultKind.SINGLE_REDIS);
        assertThat(drain(Schedule.shortSchedule(7, timing, FaultKind.SINGLE_REDIS))).isEqualTo(first);

        Schedule longOne = Schedule.longSchedule(7, timing, FaultKind.CLUSTER);
        Schedule again = Schedule.longSchedule(7, timing, FaultKind.CLUSTER);
        for (int i = 0; i < 50; i++) {
            Schedule.Fault fault = longOne.next();
            assertThat(FaultKind.CLUSTER).contains(fault.kind());
            assertThat(again.next()).isEqualTo(fault);
        }
    }

    private static List<Schedule.Fault> drain(Schedule schedule) {
        List<Schedule.Fault> faults = new java.util.ArrayList<>();
        for (Schedule.Fault f = schedule.next(); f != null; f = schedule.next()) {
            faults.add(f);
        }
        return faults;
    }
}
