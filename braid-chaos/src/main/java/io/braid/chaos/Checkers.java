package io.braid.chaos;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The five checks over a run's history. Each violation names its checker and what happened.
 * The definitions (also in the module README):
 *
 * <ol>
 *   <li><b>one owner</b>: a node <em>works</em> for a token while its handler runs, from the moment
 *   the handler starts (after the token gate, which refuses calls while the node is self-fenced)
 *   until it returns, minus the times the orchestrator held that node's process stopped
 *   (SIGSTOP sent .. SIGCONT sent): a frozen process does no work. Two different nodes working for
 *   one token at overlapping times is a violation.</li>
 *   <li><b>one leader</b>: a node leads over the span of its samples of {@code role() == LEADER}
 *   with one epoch; two such spans of different leaderships overlapping, or a later leadership
 *   with an epoch not above an earlier one, is a violation.</li>
 *   <li><b>no loss</b>: every acknowledged publish handled at least once on each channel.</li>
 *   <li><b>deadlines</b>: every bot call after the warm-up completed within its deadline plus the
 *   slack plus the time the test JVM itself stalled during the call.</li>
 *   <li><b>healing</b>: after every fault, full service within the recovery bound.</li>
 * </ol>
 */
final class Checkers {
    /** One broken promise. */
    record Violation(String checker, String detail) {
    }

    /** A stretch of time a node worked for a token. */
    record Work(String node, long from, long to) {
    }

    private static final int MAX_LISTED = 20;

    private Checkers() {
    }

    static List<Violation> check(History history, ChaosRun.Settings settings, List<String> tokens) {
        List<Violation> violations = new ArrayList<>();
        violations.addAll(oneOwner(history));
        violations.addAll(oneLeader(history.leaderships()));
        violations.addAll(noLoss(history));
        violations.addAll(deadlines(history, settings));
        violations.addAll(healing(history));
        return violations;
    }

    static List<Violation> oneOwner(History history) {
        Map<String, List<History.Frozen>> frozen = history.frozen.stream()
                .collect(Collectors.groupingBy(History.Frozen::node));
        Map<String, List<Work>> byToken = new TreeMap<>();
        for (History.Served s : history.served) {
            for (Work w : workOf(s, frozen.getOrDefault(s.node(), List.of()))) {
                byToken.computeIfAbsent(s.token(), t -> new ArrayList<>()).add(w);
            }
        }
        List<Violation> violations = new ArrayList<>();
        byToken.forEach((token, work) -> {
            work.sort(Comparator.comparingLong(Work::from));
            List<Work> open = new ArrayList<>();
            for (Work w : work) {
                open.removeIf(o -> o.to() < w.from());
                for (Work o : open) {
                    if (!o.node().equals(w.node())) {
                        violations.add(new Violation("one owner", token + " worked on by " + o.node() + " "
                                + o.from() + ".." + o.to() + " and by " + w.node() + " " + w.from() + ".." + w.to()
                                + " (µs)"));
                    }
                }
                open.add(w);
            }
        });
        return violations;
    }

    /** A served call's handler run, with the frozen windows of its node cut out. */
    static List<Work> workOf(History.Served s, List<History.Frozen> frozen) {
        List<Work> pieces = new ArrayList<>(List.of(new Work(s.node(), s.start(), s.end())));
        for (History.Frozen f : frozen) {
            List<Work> next = new ArrayList<>();
            for (Work w : pieces) {
                if (f.to() <= w.from() || f.from() >= w.to()) {
                    next.add(w);
                    continue;
                }
                if (w.from() < f.from()) {
                    next.add(new Work(w.node(), w.from(), f.from()));
                }
                if (f.to() < w.to()) {
                    next.add(new Work(w.node(), f.to(), w.to()));
                }
            }
            pieces = next;
        }
        return pieces;
    }

    static List<Violation> oneLeader(List<History.Leadership> leaderships) {
        List<Violation> violations = new ArrayList<>();
        leaderships.stream().collect(Collectors.groupingBy(History.Leadership::service, TreeMap::new, Collectors.toList()))
                .forEach((service, ofService) -> violations.addAll(oneLeaderOf(ofService)));
        return violations;
    }

    private static List<Violation> oneLeaderOf(List<History.Leadership> leaderships) {
        List<History.Leadership> sorted = new ArrayList<>(leaderships);
        sorted.sort(Comparator.comparingLong(History.Leadership::from));
        List<Violation> violations = new ArrayList<>();
        for (int i = 1; i < sorted.size(); i++) {
            History.Leadership before = sorted.get(i - 1);
            History.Leadership after = sorted.get(i);
            for (int j = 0; j < i; j++) {
                History.Leadership earlier = sorted.get(j);
                if (earlier.to() >= after.from()) {
                    violations.add(new Violation("one leader", earlier + " overlaps " + after));
                }
            }
            if (after.epoch() <= before.epoch()) {
                violations.add(new Violation("one leader", "epoch did not grow: " + before + " then " + after));
            }
        }
        return violations;
    }

    static List<Violation> noLoss(History history) {
        List<Violation> violations = new ArrayList<>();
        Map<String, Set<String>> seen = new HashMap<>();
        history.handled.forEach(h -> seen.computeIfAbsent(h.channel(), c -> new java.util.HashSet<>()).add(h.id()));
        for (String channel : List.of(ChaosNames.LEDGER_CHANNEL, ChaosNames.AUDIT_CHANNEL)) {
            Set<String> handled = seen.getOrDefault(channel, Set.of());
            List<History.Published> lost = history.published.stream().filter(p -> !handled.contains(p.id())).toList();
            lost.stream().limit(MAX_LISTED).forEach(p -> violations.add(new Violation("no loss",
                    "message " + p.id() + " (seq " + p.seq() + ") acknowledged but never handled on " + channel)));
            if (lost.size() > MAX_LISTED) {
                for (int i = MAX_LISTED; i < lost.size(); i++) {
                    violations.add(new Violation("no loss", "and another on " + channel));
                }
            }
        }
        return violations;
    }

    static List<Violation> deadlines(History history, ChaosRun.Settings settings) {
        long slack = settings.deadlineSlack().toNanos() / 1_000;
        List<Violation> violations = new ArrayList<>();
        for (History.BotCall call : history.calls) {
            if (call.start() < history.warmedUpAt) {
                continue; // the warm-up; the report gives its slowest call
            }
            if (call.hung()) {
                violations.add(new Violation("deadlines", call.token() + " call started at " + call.start()
                        + " never completed"));
            } else if (call.end() - call.start() > call.deadlineMicros() + slack + stalledWithin(history, call)) {
                violations.add(new Violation("deadlines", call.token() + " call started at " + call.start()
                        + " took " + (call.end() - call.start()) / 1_000 + " ms (" + call.outcome() + "), deadline "
                        + call.deadlineMicros() / 1_000 + " ms + slack " + slack / 1_000 + " ms + orchestrator stalls "
                        + stalledWithin(history, call) / 1_000 + " ms"));
            }
        }
        return violations;
    }

    /** How long the orchestrator JVM, which times the call, was itself unable to run during it. */
    private static long stalledWithin(History history, History.BotCall call) {
        long total = 0;
        for (History.Stall stall : history.stalls) {
            total += Math.max(0, Math.min(stall.to(), call.end()) - Math.max(stall.from(), call.start()));
        }
        return total;
    }

    static List<Violation> healing(History history) {
        List<Violation> violations = new ArrayList<>();
        for (FaultRecord fault : history.faults) {
            if (fault.recovered() == 0) {
                violations.add(new Violation("healing", "fault " + fault.index() + " (" + fault.kind() + " on "
                        + fault.victim() + "): no full service within the bound"));
            }
        }
        return violations;
    }
}
