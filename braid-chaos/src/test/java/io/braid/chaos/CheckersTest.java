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
        history.published.add(new History.Published("1", "1-0", 9, 10));
        history.published.add(new History.Published("2", "2-0", 19, 20));
        history.accept("H logic-1 ledger 1-0 1 30 1");
        history.accept("H logic-2 ledger 1-0 1 40 2");
        history.accept("H logic-2 ledger 2-0 2 50 1");
        history.accept("H gateway-1 audit 2-0 2 50 1");
        history.accept("H logic-3 slow 1-0 1 60 1");
        history.accept("H logic-3 slow 2-0 2 70 1");

        assertThat(Checkers.noLoss(history)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("1-0", "audit"));
    }

    @Test
    void aStreamMessageIsWorkForItsTokenLikeACall() {
        History history = new History();
        history.accept("S logic-1 player-1 100 200");
        history.accept("M logic-1 player-1 1 1 210 220"); // the owner's own stream: fine
        history.accept("M logic-2 player-2 1 1 150 160"); // another token: fine
        assertThat(Checkers.oneOwner(history)).isEmpty();

        history.accept("M logic-2 player-1 1 1 150 160"); // inside logic-1's call
        assertThat(Checkers.oneOwner(history)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("player-1", "logic-1", "logic-2"));
    }

    @Test
    void aStreamHandledAfterAnotherNodeTookThePlayerOverIsAViolation() {
        History history = new History();
        // logic-1 serves player-1's stream 3; logic-2 then serves a call of player-1; logic-1 goes on
        // handling the old stream (never at the same instant as logic-2: only the fence rule sees it).
        history.accept("M logic-1 player-1 3 1 100 110");
        history.accept("M logic-1 player-1 3 2 200 210");
        history.accept("S logic-2 player-1 300 310");
        assertThat(Checkers.streamFence(history)).isEmpty();
        assertThat(Checkers.oneOwner(history)).isEmpty();

        history.accept("M logic-1 player-1 3 3 400 410");
        history.accept("M logic-1 player-1 3 4 500 510");
        assertThat(Checkers.streamFence(history)).singleElement().satisfies(v -> {
            assertThat(v.checker()).isEqualTo("one owner");
            assertThat(v.detail()).contains("player-1 stream 3 on logic-1", "message 3", "logic-2", "2 message(s)");
        });
    }

    /**
     * CI on 2026-12-06: logic-4 was SIGSTOPped (STOP_LEADER) just as message 4 of player-3's stream
     * arrived; it had passed the token gate when the stop took hold, and its handler began 3 ms after
     * SIGCONT, after logic-5 had taken the player over. One such message per stream and thaw is
     * counted, not a violation (for logic-4's stream, nor as work that logic-5's stream outlived);
     * a second one, or one that starts later than the slack, is a violation.
     */
    @Test
    void theFirstStreamMessageRightAfterAThawIsCountedNotAViolationButASecondOneIs() {
        History history = new History();
        history.accept("M logic-4 player-3 25 3 218469 218470");
        history.frozen.add(new History.Frozen("logic-4", 218568, 221070));
        history.accept("M logic-5 player-3 26 1 220670 220671");
        history.accept("M logic-5 player-3 26 2 220771 220772");
        history.accept("M logic-4 player-3 25 4 221073 221074"); // admitted before the stop
        history.accept("M logic-5 player-3 26 3 221075 221076");
        assertThat(Checkers.streamFence(history)).isEmpty();
        assertThat(Checkers.oneOwner(history)).isEmpty();
        assertThat(Checkers.admittedBeforeAFreeze(history)).singleElement()
                .satisfies(m -> assertThat(m.seq()).isEqualTo("4"));

        history.accept("M logic-4 player-3 25 5 221174 221175"); // the gate let one through after the thaw
        assertThat(Checkers.streamFence(history)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("stream 25 on logic-4", "message 5"));

        History late = new History(); // past the slack: not explained by a stop mid-admission
        late.accept("M logic-4 player-3 25 3 218469 218470");
        late.frozen.add(new History.Frozen("logic-4", 218568, 221070));
        late.accept("M logic-5 player-3 26 1 220670 220671");
        late.accept("M logic-4 player-3 25 4 " + (221070 + Checkers.THAW_SLACK_MICROS + 1) + " 271200");
        assertThat(Checkers.admittedBeforeAFreeze(late)).isEmpty();
        assertThat(Checkers.streamFence(late)).hasSize(1);
    }

    @Test
    void anOldOwnersStreamInsideADataLossWindowIsCountedButNotPastIt() {
        History history = new History();
        // Redis restarted empty at 1,000..1,100 µs; with a grace of 500 µs the window ends at 1,600.
        history.faults.add(new FaultRecord(11, FaultKind.REDIS_RESTART_EMPTY, "redis-server", 1_000, 1_100, 0, 1_200));
        history.accept("M logic-1 player-1 3 1 900 910");
        history.accept("S logic-2 player-1 1150 1160"); // the gateway, links lost, picked another node
        history.accept("M logic-1 player-1 3 2 1300 1310"); // the old owner has not noticed yet
        assertThat(Checkers.streamFence(history, 500)).isEmpty();
        assertThat(Checkers.dataLossOverlaps(history, 500)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("player-1 stream 3 on logic-1", "message 2"));
        assertThat(Checkers.streamFence(history)).as("without a window it is a violation").hasSize(1);

        history.accept("M logic-1 player-1 3 3 1700 1710"); // past the window: its fence failed
        assertThat(Checkers.streamFence(history, 500)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("message 3", "1 message(s)"));

        History unrelated = new History(); // a FLUSHALL long before does not excuse a later overlap
        unrelated.faults.add(new FaultRecord(8, FaultKind.FLUSHALL, "redis-server", 1_000, 1_005, 0, 1_050));
        unrelated.accept("M logic-1 player-2 4 1 5000 5010");
        unrelated.accept("S logic-2 player-2 5100 5110");
        unrelated.accept("M logic-1 player-2 4 2 5200 5210");
        assertThat(Checkers.streamFence(unrelated, 500)).hasSize(1);
        assertThat(Checkers.dataLossOverlaps(unrelated, 500)).isEmpty();
    }

    @Test
    void overlappingWorkInsideADataLossWindowIsCountedButNotWhenItOutlastsIt() {
        History history = new History();
        history.faults.add(new FaultRecord(8, FaultKind.FLUSHALL, "redis-server", 1_000, 1_005, 0, 1_050));
        history.accept("S logic-1 player-3 990 1200");
        history.accept("S logic-2 player-3 1100 1150");
        assertThat(Checkers.oneOwner(history, 500)).isEmpty();
        assertThat(Checkers.dataLossOverlaps(history, 500)).hasSize(1);
        assertThat(Checkers.oneOwner(history)).hasSize(1);

        history.accept("S logic-1 player-3 1400 2000"); // still working for it past 1,505
        history.accept("S logic-2 player-3 1450 1460");
        assertThat(Checkers.oneOwner(history, 500)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("logic-1 1400..2000", "logic-2 1450..1460"));
    }

    @Test
    void aNewStreamOnAnEarlierOwnerAfterTheTokenCameBackIsNotAViolation() {
        History history = new History();
        history.accept("M logic-1 player-1 1 1 100 110");
        history.accept("S logic-2 player-1 300 310"); // stream 1 ended before; the player moved
        history.accept("S logic-1 player-1 500 510"); // and came back (logic-2 died)
        history.accept("M logic-1 player-1 2 1 600 610"); // a new stream: fine
        assertThat(Checkers.streamFence(history)).isEmpty();
    }

    @Test
    void aRelinkedPlayerServedAgainByItsOldOwnerIsAViolationUntilTheNextFault() {
        History history = new History();
        history.accept("S logic-1 player-5 100 110");
        history.relinked.add(new History.Relinked("player-5", "logic-2", 200));
        history.accept("S logic-1 player-5 190 195"); // in flight while the relink was made: fine
        history.accept("S logic-2 player-5 300 310");
        history.faults.add(new FaultRecord(2, FaultKind.KILL_LOGIC, "logic-2", 1_000, 1_010, 0, 2_000));
        history.accept("S logic-1 player-5 1500 1510"); // after the next fault: the player may move
        assertThat(Checkers.relinksHold(history)).isEmpty();

        history.accept("S logic-1 player-5 400 410"); // a stale near cache sent it to the old owner
        history.accept("S logic-1 player-5 500 510");
        assertThat(Checkers.relinksHold(history)).singleElement().satisfies(v -> {
            assertThat(v.checker()).isEqualTo("one owner");
            assertThat(v.detail()).contains("player-5 relinked to logic-2", "served by logic-1 at 400", "2 stale");
        });
    }

    @Test
    void aNodeCutOffFromRedisForATtlWorksForNobody() {
        History history = new History();
        history.faults.add(new FaultRecord(5, FaultKind.BLACKHOLE, "logic-1", 1_000, 5_000, 0, 6_000));
        history.accept("S logic-1 player-1 2000 2010");     // within the TTL after the cut: may still be fenced late
        history.accept("S logic-2 player-5 4000 4010");     // another node
        history.accept("M logic-1 player-1 3 9 5500 5510"); // after the restore
        assertThat(Checkers.cutOffNodesWorkNot(history, 2_000)).isEmpty();

        history.accept("M logic-1 player-1 3 7 3500 3510"); // its open stream, two TTLs in
        history.accept("S logic-1 player-2 4500 4510");
        assertThat(Checkers.cutOffNodesWorkNot(history, 2_000)).singleElement().satisfies(v -> {
            assertThat(v.checker()).isEqualTo("one owner");
            assertThat(v.detail()).contains("logic-1", "player-1 (stream 3)", "2 piece(s)");
        });
    }

    @Test
    void anEpochANodeSawMayNeverGoDown() {
        History history = new History();
        history.accept("E logic-1 logic 0 10");
        history.accept("E logic-1 logic 3 20");
        history.accept("E logic-1 logic 4 30");
        history.accept("E logic-2 logic 1 40"); // another node that has only seen 1: no drop for it
        history.accept("E gateway-1 gateway 1 50");
        assertThat(Checkers.epochsNeverDrop(history.epochs)).isEmpty();

        history.accept("E logic-1 logic 1 60"); // e.g. adopted after the store lost the epoch
        assertThat(Checkers.epochsNeverDrop(history.epochs)).singleElement().satisfies(v -> {
            assertThat(v.checker()).isEqualTo("one leader");
            assertThat(v.detail()).contains("logic-1", "epoch 4", "lower epoch 1");
        });
    }

    @Test
    void aMessageSentBeforeTheStoreLostItsDataIsLostWithTheStoreAndOneSentAfterIsLost() {
        History history = new History();
        history.faults.add(new FaultRecord(1, FaultKind.FLUSHALL, "redis-server", 1_000, 1_010, 0, 5_000));
        history.faults.add(new FaultRecord(2, FaultKind.KILL_LOGIC, "logic-1", 2_000, 2_010, 0, 6_000));
        history.published.add(new History.Published("1", "1-0", 900, 950));     // acked before the flush
        history.published.add(new History.Published("2", "2-0", 1_005, 1_020)); // sent while it ran
        history.published.add(new History.Published("3", "3-0", 1_100, 1_120)); // after it: must arrive
        for (String channel : ChaosNames.CHANNELS) {
            history.accept("H node " + channel + " 3-0 3 1200 1");
        }
        assertThat(Checkers.noLoss(history)).isEmpty();
        assertThat(Checkers.lostWithTheStore(history).get(ChaosNames.SLOW_CHANNEL))
                .extracting(History.Published::id).containsExactly("1-0", "2-0");
        assertThat(Checkers.lostWith(history.published.peek(), history.faults)).extracting(FaultRecord::index)
                .isEqualTo(1);

        history.published.add(new History.Published("4", "4-0", 1_300, 1_320));
        history.accept("H node ledger 4-0 4 1400 1");
        history.accept("H node audit 4-0 4 1400 1");
        assertThat(Checkers.noLoss(history)).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("4-0", ChaosNames.SLOW_CHANNEL));
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
    void aPlayersAcknowledgedCounterMayJumpButNeverStallOrGoBack() {
        History history = new History();
        history.calls.add(answered("player-1", 100, 110, 1));
        history.calls.add(answered("player-1", 200, 210, 2));
        history.calls.add(failed("player-1", 300, 2_000_300)); // timed out: it may or may not have counted
        history.calls.add(answered("player-1", 2_400_000, 2_400_010, 4)); // it did: a jump, allowed
        history.calls.add(answered("player-1", 8_000_000, 8_000_010, 5));
        history.calls.add(answered("player-1", 8_100_000, 8_100_010, 7)); // a call counted twice: a jump too
        history.calls.add(answered("player-2", 150, 160, 1)); // another player: its own counter
        Checkers.PlayerStateCheck clean = Checkers.playerState(history, 500);
        assertThat(clean.violations()).isEmpty();
        assertThat(clean.players()).isEqualTo(2);
        assertThat(clean.answersChecked()).isEqualTo(6);
        assertThat(clean.jumps()).isEqualTo(2);
        assertThat(clean.jumpsWithoutFailedCall()).as("5 to 7: no failed call for a deadline and more").isEqualTo(1);

        History late = new History(); // a call that failed at the bot may run on the node after the next began
        late.calls.add(failed("player-1", 0, 2_000_000));
        late.calls.add(answered("player-1", 2_100_000, 2_200_000, 1));
        late.calls.add(answered("player-1", 2_300_000, 2_400_000, 3));
        assertThat(Checkers.playerState(late, 500).jumps()).isEqualTo(1);
        assertThat(Checkers.playerState(late, 500).jumpsWithoutFailedCall()).isZero();

        history.calls.add(answered("player-1", 8_200_000, 8_200_010, 7)); // an acknowledged update lost
        history.calls.add(answered("player-1", 8_300_000, 8_300_010, 3)); // and one going back
        assertThat(Checkers.playerState(history, 500).violations()).hasSize(2).allSatisfy(v -> {
            assertThat(v.checker()).isEqualTo("player state");
            assertThat(v.detail()).contains("player-1", "logic-1");
        }).anySatisfy(v -> assertThat(v.detail()).contains("7 at 8100000", "then 7 at 8200000"))
                .anySatisfy(v -> assertThat(v.detail()).contains("then 3 at 8300000"));
    }

    @Test
    void aCounterGoingBackAcrossADataLossIsCountedNotAViolation() {
        History history = new History();
        // the store restarted empty at 1,000..1,100 µs; with a grace of 500 µs its window ends at 1,600
        history.faults.add(new FaultRecord(4, FaultKind.REDIS_RESTART_EMPTY, "redis-server", 1_000, 1_100, 0, 1_200));
        history.calls.add(answered("player-1", 900, 950, 40)); // saved before the wipe
        history.calls.add(answered("player-1", 1_700, 1_710, 1)); // activated afresh after it
        history.calls.add(answered("player-1", 1_800, 1_810, 2));
        Checkers.PlayerStateCheck check = Checkers.playerState(history, 500);
        assertThat(check.violations()).isEmpty();
        assertThat(check.resetsByStoreLoss()).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("player-1", "40 at 900", "then 1 at 1700"));

        history.calls.add(answered("player-1", 1_900, 1_910, 1)); // after the window: lost by braid
        assertThat(Checkers.playerState(history, 500).violations()).singleElement()
                .satisfies(v -> assertThat(v.detail()).contains("2 at 1800", "then 1 at 1900"));

        History killed = new History(); // a kill -9 is no excuse: with write-through nothing told is lost
        killed.faults.add(new FaultRecord(2, FaultKind.KILL_LOGIC, "logic-1", 1_000, 1_010, 0, 3_000));
        killed.calls.add(answered("player-1", 900, 950, 40));
        killed.calls.add(answered("player-1", 1_700, 1_710, 1));
        assertThat(Checkers.playerState(killed, 500).violations()).hasSize(1);
    }

    private static History.BotCall answered(String token, long start, long end, long counter) {
        return new History.BotCall(token, start, end, 2_000_000, Code.OK, false, "logic-1", counter);
    }

    private static History.BotCall failed(String token, long start, long end) {
        return new History.BotCall(token, start, end, 2_000_000, Code.DEADLINE_EXCEEDED, false);
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
        assertThat(FaultKind.SINGLE_REDIS).as("both control planes drain a node").contains(FaultKind.DRAIN_HANDOFF);
        assertThat(FaultKind.CLUSTER).contains(FaultKind.DRAIN_HANDOFF);

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
