package io.braid.chaos;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The figures of one run and the markdown of CHAOS.md. */
public final class ChaosReport {
    private final ChaosRun.Settings settings;
    private final History history;
    private final List<Checkers.Violation> violations;
    private final long runStart;
    private final long runEnd;
    private final List<FaultRecord> faults;
    private final Map<Integer, Integer> failedCalls = new java.util.HashMap<>();
    private final Map<Integer, Integer> duplicates = new java.util.HashMap<>();
    /** Per fault: when the last player whose calls failed in it was served again (wall micros), if any failed. */
    private final Map<Integer, Long> playersBack = new java.util.HashMap<>();
    private int duplicatesBeforeFaults;
    /** Per data-loss fault: acknowledged messages lost with the store (summed over channels). */
    private final Map<Integer, Integer> lostWithStore = new java.util.HashMap<>();
    private final Map<String, List<History.Published>> lostByChannel;
    /** Per leader fault: when another logic node began to lead (wall micros). */
    private final Map<Integer, Long> newLeader = new java.util.HashMap<>();

    ChaosReport(ChaosRun.Settings settings, History history, List<Checkers.Violation> violations, long runStart,
                long runEnd) {
        this.settings = settings;
        this.history = history;
        this.violations = List.copyOf(violations);
        this.runStart = runStart;
        this.runEnd = runEnd;
        this.faults = history.faults.stream().sorted(Comparator.comparingInt(FaultRecord::index)).toList();
        this.lostByChannel = Checkers.lostWithTheStore(history);
        lostByChannel.values().forEach(list -> list.forEach(p -> lostWithStore.merge(
                Checkers.lostWith(p, faults).index(), 1, Integer::sum)));
        attribute();
    }

    public List<Checkers.Violation> violations() {
        return violations;
    }

    /** Counts failed calls (started while a fault was unhealed) and duplicate deliveries per fault. */
    private void attribute() {
        long bound = settings.recoveryBound().toNanos() / 1_000;
        for (History.BotCall call : history.calls) {
            if (call.ok()) {
                continue;
            }
            for (FaultRecord f : faults) {
                long until = f.recovered() != 0 ? f.recovered() : f.healed() + bound;
                if (call.start() >= f.injected() && call.start() <= until) {
                    failedCalls.merge(f.index(), 1, Integer::sum);
                    break;
                }
            }
        }
        for (FaultRecord f : faults) {
            long until = f.recovered() != 0 ? f.recovered() : f.healed() + bound;
            Map<String, List<History.BotCall>> byToken = history.calls.stream()
                    .filter(c -> c.start() >= f.injected() && c.start() <= until + bound)
                    .collect(Collectors.groupingBy(History.BotCall::token));
            long last = 0;
            for (List<History.BotCall> calls : byToken.values()) {
                long lastFailure = calls.stream().filter(c -> !c.ok() && c.start() <= until)
                        .mapToLong(History.BotCall::start).max().orElse(0);
                if (lastFailure != 0) {
                    long back = calls.stream().filter(c -> c.ok() && c.start() > lastFailure)
                            .mapToLong(History.BotCall::end).min().orElse(Long.MAX_VALUE);
                    last = Math.max(last, back);
                }
            }
            if (last != 0) {
                playersBack.put(f.index(), last);
            }
        }
        for (FaultRecord f : faults) {
            if (f.kind() == FaultKind.KILL_LEADER || f.kind() == FaultKind.STOP_LEADER) {
                history.leaderships().stream()
                        .filter(l -> l.service().equals(ChaosNames.LOGIC) && !l.node().equals(f.victim())
                                && l.from() >= f.injected())
                        .mapToLong(History.Leadership::from).min().ifPresent(at -> newLeader.put(f.index(), at));
            }
        }
        List<History.Handled> handled = new ArrayList<>(history.handled);
        handled.sort(Comparator.comparingLong(History.Handled::at));
        Set<String> seen = new HashSet<>();
        for (History.Handled h : handled) {
            if (seen.add(h.channel() + "|" + h.id())) {
                continue;
            }
            FaultRecord latest = null;
            for (FaultRecord f : faults) {
                if (f.injected() <= h.at()) {
                    latest = f;
                }
            }
            if (latest == null) {
                duplicatesBeforeFaults++;
            } else {
                duplicates.merge(latest.index(), 1, Integer::sum);
            }
        }
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Chaos run\n\n");
        md.append("Written by braid-chaos (`").append(settings.longSchedule() ? "long" : "short")
                .append("` schedule). How to run it and what every figure means: braid-chaos/README.md.\n\n");
        md.append("- seed: ").append(settings.seed()).append('\n');
        md.append("- started: ").append(Instant.ofEpochMilli(runStart / 1_000)).append(", lasted ")
                .append((runEnd - runStart) / 1_000_000).append(" s\n");
        md.append("- cluster: ").append(settings.cluster()
                        ? "a Redis Cluster of 3 masters with 1 replica each (node timeout "
                        + ChaosRun.CLUSTER_NODE_TIMEOUT.toMillis() + " ms, no AOF)"
                        : "1 redis-server (AOF, appendfsync always; each node JVM reaches it through its own TCP proxy)")
                .append(", 3 logic and 2 gateway JVMs, ").append(settings.bots()).append(" bots (")
                .append(settings.streamers()).append(" of them also hold a stream to their logic node), 1 publisher "
                        + "(3 channels: ledger and slow on logic, audit on gateways)\n");
        md.append("- timing: heartbeat ").append(settings.heartbeat().toMillis()).append(" ms, TTL ")
                .append(settings.ttl().toMillis()).append(" ms, lease ").append(settings.lease().toMillis())
                .append(" ms, redeliver after ").append(settings.redeliverAfter().toMillis())
                .append(" ms, trim every ").append(settings.trimInterval().toMillis())
                .append(" ms, call deadline ").append(settings.callDeadline().toMillis()).append(" ms + slack ")
                .append(settings.deadlineSlack().toMillis()).append(" ms, recovery bound ")
                .append(settings.recoveryBound().toSeconds()).append(" s after the fault is lifted\n\n");

        md.append("## Per fault kind\n\n");
        md.append("Times in ms from the fault's injection. detect: discovery dropped the node (node faults) or the "
                + "first bot call failed (Redis faults). players back: the last player whose calls failed was "
                + "served again. recover: full service, every expected node (replacements included) registered "
                + "and then every bot served again. new leader (leader faults): another logic node leads. lost with "
                + "store (data-loss faults): acknowledged messages sent before the wipe and never handled, summed over "
                + "the channels; counted, not violations.\n\n");
        md.append("| fault kind | count | detect median | detect max | new leader max | players back max | recover median "
                + "| recover max | calls failed | duplicates | lost with store |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        Map<FaultKind, List<FaultRecord>> byKind = new EnumMap<>(FaultKind.class);
        faults.forEach(f -> byKind.computeIfAbsent(f.kind(), k -> new ArrayList<>()).add(f));
        byKind.forEach((kind, list) -> {
            List<Long> detect = list.stream().filter(f -> f.detected() != 0).map(f -> (f.detected() - f.injected()) / 1_000)
                    .sorted().toList();
            List<Long> recover = list.stream().filter(f -> f.recovered() != 0)
                    .map(f -> (f.recovered() - f.injected()) / 1_000).sorted().toList();
            int failed = list.stream().mapToInt(f -> failedCalls.getOrDefault(f.index(), 0)).sum();
            int dups = list.stream().mapToInt(f -> duplicates.getOrDefault(f.index(), 0)).sum();
            List<Long> back = list.stream().filter(f -> playersBack.containsKey(f.index()))
                    .map(f -> playersBack.get(f.index()) == Long.MAX_VALUE ? Long.MAX_VALUE
                            : (playersBack.get(f.index()) - f.injected()) / 1_000).sorted().toList();
            md.append("| ").append(kind.name()).append(" | ").append(list.size()).append(" | ")
                    .append(median(detect)).append(" | ").append(max(detect)).append(" | ")
                    .append(max(list.stream().filter(f -> newLeader.containsKey(f.index()))
                            .map(f -> (newLeader.get(f.index()) - f.injected()) / 1_000).sorted().toList())).append(" | ")
                    .append(max(back)).append(" | ")
                    .append(median(recover)).append(" | ").append(max(recover)).append(" | ")
                    .append(failed).append(" | ").append(dups).append(" | ")
                    .append(list.stream().mapToInt(f -> lostWithStore.getOrDefault(f.index(), 0)).sum()).append(" |\n");
        });
        md.append("\nFault kinds: ");
        md.append(byKind.keySet().stream().map(k -> "`" + k.name() + "` " + k.description).collect(Collectors.joining("; ")));
        md.append(".\n\n");

        md.append("## Schedule\n\n");
        md.append("| # | at s | fault | victim | held ms | detect ms | new leader ms | players back ms | recover ms "
                + "| calls failed | duplicates | lost with store |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (FaultRecord f : faults) {
            md.append("| ").append(f.index()).append(" | ").append(String.format("%.1f", (f.injected() - runStart) / 1e6))
                    .append(" | ").append(f.kind().name()).append(" | ").append(f.victim()).append(" | ")
                    .append((f.healed() - f.injected()) / 1_000).append(" | ")
                    .append(f.detected() == 0 ? "-" : Long.toString((f.detected() - f.injected()) / 1_000)).append(" | ")
                    .append(newLeader.containsKey(f.index()) ? Long.toString((newLeader.get(f.index()) - f.injected()) / 1_000)
                            : "-").append(" | ")
                    .append(playersBack.containsKey(f.index()) ? playersBack.get(f.index()) == Long.MAX_VALUE ? "never"
                            : Long.toString((playersBack.get(f.index()) - f.injected()) / 1_000) : "-").append(" | ")
                    .append(f.recovered() == 0 ? "not within bound" : Long.toString((f.recovered() - f.injected()) / 1_000))
                    .append(" | ").append(failedCalls.getOrDefault(f.index(), 0)).append(" | ")
                    .append(duplicates.getOrDefault(f.index(), 0)).append(" | ")
                    .append(lostWithStore.getOrDefault(f.index(), 0)).append(" |\n");
        }

        long ok = history.calls.stream().filter(History.BotCall::ok).count();
        Map<String, Long> failedByCode = history.calls.stream().filter(c -> !c.ok())
                .collect(Collectors.groupingBy(c -> c.outcome().name(), java.util.TreeMap::new, Collectors.counting()));
        md.append("\n## Totals\n\n");
        md.append("- bot calls: ").append(history.calls.size()).append(", succeeded ").append(ok).append(", failed ")
                .append(history.calls.size() - ok).append(' ').append(failedByCode).append('\n');
        List<History.BotCall> warmUp = history.calls.stream().filter(c -> c.start() < history.warmedUpAt).toList();
        md.append("- warm-up (until every bot was served once, before the first fault; not in the deadline check): ")
                .append(warmUp.size()).append(" calls, ").append(warmUp.stream().filter(c -> !c.ok()).count())
                .append(" failed, the slowest ").append(warmUp.stream().mapToLong(c -> c.end() - c.start()).max().orElse(0) / 1_000)
                .append(" ms\n");
        md.append("- token calls served (logic handler runs): ").append(history.served.size()).append('\n');
        History.StreamStats streams = history.streamStats;
        md.append("- streams: ").append(streams.opened.get()).append(" opened by the bots, ").append(streams.sent.get())
                .append(" messages sent, ").append(streams.answered.get()).append(" answered, ")
                .append(history.streamed.size()).append(" handled by logic nodes; streams ended by code ")
                .append(new java.util.TreeMap<>(streams.ended.entrySet().stream().collect(Collectors.toMap(
                        e -> e.getKey().name(), e -> e.getValue().get())))).append('\n');
        history.leaderships().stream().collect(Collectors.groupingBy(History.Leadership::service,
                java.util.TreeMap::new, Collectors.toList())).forEach((service, list) -> md.append("- leaderships of ")
                .append(service).append(": ").append(list.size()).append(", epochs in order ")
                .append(list.stream().sorted(Comparator.comparingLong(History.Leadership::from))
                        .map(l -> l.epoch() + " (" + l.node() + ")").collect(Collectors.joining(", "))).append('\n'));
        long stalled = history.stalls.stream().mapToLong(st -> st.to() - st.from()).sum() / 1_000;
        long worst = history.stalls.stream().mapToLong(st -> st.to() - st.from()).max().orElse(0) / 1_000;
        md.append("- the orchestrator JVM (bots, publisher) could not run for ").append(stalled)
                .append(" ms in all (").append(history.stalls.size()).append(" stalls over ")
                .append(StallProbe.THRESHOLD_MILLIS).append(" ms, the longest ").append(worst)
                .append(" ms); a late call is excused only by the stall time inside it\n");
        md.append("- messages acknowledged to the publisher: ").append(history.published.size())
                .append(" (publishes failed or unacknowledged: ").append(history.failedPublishes()).append(")\n");
        for (String channel : ChaosNames.CHANNELS) {
            List<History.Handled> on = history.handled.stream().filter(h -> h.channel().equals(channel)).toList();
            long distinct = on.stream().map(History.Handled::id).distinct().count();
            md.append("- channel ").append(channel).append(": ").append(on.size()).append(" deliveries handled, ")
                    .append(distinct).append(" distinct, duplicates ").append(on.size() - distinct)
                    .append(", lost with the store ").append(lostByChannel.getOrDefault(channel, List.of()).size())
                    .append('\n');
        }
        md.append("- duplicates before the first fault: ").append(duplicatesBeforeFaults).append('\n');

        md.append("\n## Checkers\n\n");
        Map<String, Long> perChecker = violations.stream()
                .collect(Collectors.groupingBy(Checkers.Violation::checker, java.util.TreeMap::new, Collectors.counting()));
        for (String checker : List.of("one owner", "one leader", "no loss", "deadlines", "healing", "player state")) {
            md.append("- ").append(checker).append(": ").append(perChecker.getOrDefault(checker, 0L)).append('\n');
        }
        Checkers.PlayerStateCheck state = Checkers.playerState(history, Checkers.dataLossGraceMicros(settings));
        md.append("\nPlayer state (a counter per player, saved write-through; each acknowledged answer must be above ")
                .append("the one before): ").append(state.players()).append(" players, ").append(state.answersChecked())
                .append(" acknowledged answers checked (each against the one before), ").append(state.jumps())
                .append(" jumps (a failed or timed-out call that counted, or a call counted twice: allowed; ")
                .append(state.jumpsWithoutFailedCall()).append(" of them no failed call explains), ")
                .append(state.violations().size()).append(" violations; counters back across a store that forgot ")
                .append("its writes (counted, not violations): ").append(state.resetsByStoreLoss().size()).append('\n');
        state.resetsByStoreLoss().stream().limit(10).forEach(v -> md.append("- ").append(v.detail()).append('\n'));
        List<Checkers.Violation> inWindows = Checkers.dataLossOverlaps(history, Checkers.dataLossGraceMicros(settings));
        md.append("\nOwner overlaps inside a data-loss window (from a REDIS_RESTART_EMPTY or FLUSHALL to ")
                .append(Checkers.dataLossGraceMicros(settings) / 1_000).append(" ms after its store came back; counted, ")
                .append("not violations: an overlap that outlasts its window is one): ").append(inWindows.size()).append('\n');
        inWindows.stream().limit(10).forEach(v -> md.append("- ").append(v.detail()).append('\n'));
        List<History.Streamed> thawed = Checkers.admittedBeforeAFreeze(history);
        md.append("\nStream messages handled right after a SIGCONT that the node may have admitted before its SIGSTOP ")
                .append("took hold (the first of a stream within ").append(Checkers.THAW_SLACK_MICROS / 1_000)
                .append(" ms of the thaw; counted, not violations: a second one is): ").append(thawed.size()).append('\n');
        thawed.stream().limit(10).forEach(m -> md.append("- ").append(m.token()).append(" stream ").append(m.stream())
                .append(" on ").append(m.node()).append(": message ").append(m.seq()).append(" at ").append(m.start())
                .append(" µs\n"));
        if (!violations.isEmpty()) {
            md.append("\nFirst violations:\n\n");
            violations.stream().limit(30).forEach(v -> md.append("- ").append(v.checker()).append(": ")
                    .append(v.detail()).append('\n'));
        }
        md.append("\nviolations: ").append(violations.size()).append('\n');
        return md.toString();
    }

    public void write(Path path) {
        ChaosRun.writeQuietly(path, markdown());
    }

    private static String median(List<Long> sorted) {
        return sorted.isEmpty() ? "-" : Long.toString(sorted.get(sorted.size() / 2));
    }

    private static String max(List<Long> sorted) {
        return sorted.isEmpty() ? "-" : sorted.get(sorted.size() - 1) == Long.MAX_VALUE ? "never"
                : Long.toString(sorted.get(sorted.size() - 1));
    }
}
