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
 * The six checks over a run's history. Each violation names its checker and what happened.
 * The definitions (also in the module README):
 *
 * <ol>
 *   <li><b>one owner</b>: a node <em>works</em> for a token while its {@code act} handler runs, from
 *   the moment the handler starts (after the token gate, which refuses calls while the node is
 *   self-fenced) until it returns, and while it handles a message of the token's stream, minus the
 *   times the orchestrator held that node's process stopped (SIGSTOP sent .. SIGCONT sent): a
 *   frozen process does no work. Two different nodes working for one token at overlapping times is
 *   a violation. So is a node handling a message of a token's stream after another node began to
 *   work for that token later than the stream's first message on this node: the stream outlived
 *   the node's ownership (its fence should have ended it).</li>
 *   <li><b>one leader</b>: a node leads over the span of its samples of {@code role() == LEADER}
 *   with one epoch; two such spans of different leaderships overlapping, or a later leadership
 *   with an epoch not above an earlier one, is a violation. So is any node seeing the epoch go
 *   down ({@code elector.epoch()} lower than a value it reported before).</li>
 *   <li><b>no loss</b>: every acknowledged publish handled at least once on each channel, except
 *   one <em>lost with the store</em>: sent before a data-loss fault (REDIS_RESTART_EMPTY,
 *   FLUSHALL) had completed, and never handled on that channel. Those are counted, not
 *   violations.</li>
 *   <li><b>deadlines</b>: every bot call after the warm-up completed within its deadline plus the
 *   slack plus the time the test JVM itself stalled during the call.</li>
 *   <li><b>healing</b>: after every fault, full service within the recovery bound.</li>
 *   <li><b>player state</b>: per player, every acknowledged answer's counter is above the one
 *   before it ({@link #playerState}): no acknowledged update is lost across moves, drains and
 *   kills.</li>
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
        long grace = dataLossGraceMicros(settings);
        violations.addAll(oneOwner(history, grace));
        violations.addAll(streamFence(history, grace));
        violations.addAll(relinksHold(history));
        violations.addAll(cutOffNodesWorkNot(history, settings.ttl().toNanos() / 1_000));
        violations.addAll(oneLeader(history.leaderships()));
        violations.addAll(epochsNeverDrop(history.epochs));
        violations.addAll(playerState(history, grace).violations());
        violations.addAll(noLoss(history));
        violations.addAll(deadlines(history, settings));
        violations.addAll(healing(history));
        return violations;
    }

    /** {@link #oneOwner(History, long)} with no data-loss window: every overlap is a violation. */
    static List<Violation> oneOwner(History history) {
        return oneOwner(history, -1);
    }

    /**
     * Two nodes working for one token at overlapping times. An overlap whose later piece of work
     * began in a {@link #dataLossWindow data-loss window}, and whose earlier piece ended inside that
     * window, is {@link #dataLossOverlaps counted}, not a violation; {@code graceMicros} < 0: none is.
     */
    static List<Violation> oneOwner(History history, long graceMicros) {
        return ownerOverlaps(history, graceMicros, false);
    }

    private static List<Violation> ownerOverlaps(History history, long graceMicros, boolean excusedOnes) {
        Map<String, List<History.Frozen>> frozen = history.frozen.stream()
                .collect(Collectors.groupingBy(History.Frozen::node));
        Map<String, List<Work>> byToken = new TreeMap<>();
        for (History.Served s : history.served) {
            for (Work w : workOf(s, frozen.getOrDefault(s.node(), List.of()))) {
                byToken.computeIfAbsent(s.token(), t -> new ArrayList<>()).add(w);
            }
        }
        for (History.Streamed m : history.streamed) {
            History.Served asWork = new History.Served(m.node(), m.token(), m.start(), m.end());
            for (Work w : workOf(asWork, frozen.getOrDefault(m.node(), List.of()))) {
                byToken.computeIfAbsent(m.token(), t -> new ArrayList<>()).add(w);
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
                        FaultRecord loss = dataLossWindow(w.from(), history.faults, graceMicros);
                        boolean excused = loss != null && o.to() <= loss.healed() + graceMicros;
                        if (excused != excusedOnes) {
                            continue;
                        }
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

    /**
     * A stream must not outlive its node's ownership: once another node has begun to work for the
     * token (an {@code act} call or a stream message) after the stream's first message on this
     * node, this node handles no more messages of that stream. One violation per stream, naming
     * the first message handled too late and how many followed it.
     */
    static List<Violation> streamFence(History history) {
        return streamFence(history, -1);
    }

    /**
     * As {@link #streamFence(History)}, but when the other node began in a {@link #dataLossWindow
     * data-loss window}, only messages handled after that window ends are violations; those within
     * it are {@link #dataLossOverlaps counted}.
     */
    static List<Violation> streamFence(History history, long graceMicros) {
        return lateStreamMessages(history, graceMicros, false);
    }

    private static List<Violation> lateStreamMessages(History history, long graceMicros, boolean excusedOnes) {
        java.util.Set<History.Streamed> thawed = new java.util.HashSet<>(admittedBeforeAFreeze(history));
        Map<String, List<Work>> byToken = new HashMap<>(); // every piece of work's start, by token
        history.served.forEach(s -> byToken.computeIfAbsent(s.token(), t -> new ArrayList<>())
                .add(new Work(s.node(), s.start(), s.end())));
        history.streamed.stream().filter(m -> !thawed.contains(m)).forEach(m -> byToken
                .computeIfAbsent(m.token(), t -> new ArrayList<>()).add(new Work(m.node(), m.start(), m.end())));
        Map<String, List<History.Streamed>> streams = history.streamed.stream().filter(m -> !thawed.contains(m))
                .collect(Collectors.groupingBy(
                m -> m.token() + " stream " + m.stream() + " on " + m.node(), TreeMap::new, Collectors.toList()));
        List<Violation> violations = new ArrayList<>();
        streams.forEach((name, messages) -> {
            messages.sort(Comparator.comparingLong(History.Streamed::start));
            History.Streamed first = messages.get(0);
            byToken.getOrDefault(first.token(), List.of()).stream()
                    .filter(w -> !w.node().equals(first.node()) && w.from() > first.start())
                    .min(Comparator.comparingLong(Work::from)).ifPresent(other -> {
                        FaultRecord loss = dataLossWindow(other.from(), history.faults, graceMicros);
                        long windowEnd = loss == null ? Long.MIN_VALUE : loss.healed() + graceMicros;
                        List<History.Streamed> late = messages.stream().filter(m -> m.start() > other.from()
                                && (m.start() <= windowEnd) == excusedOnes).toList();
                        if (!late.isEmpty()) {
                            violations.add(new Violation("one owner", name + ": message " + late.get(0).seq()
                                    + " handled at " + late.get(0).start() + " after " + other.node()
                                    + " began working for " + first.token() + " at " + other.from() + " (µs); "
                                    + late.size() + " message(s) of this stream handled after that"));
                        }
                    });
        });
        return violations;
    }

    /**
     * How soon after SIGCONT a node's thread that was stopped between a stream message's token-gate
     * check and its handler's first instruction records that message as started (3 ms was seen on
     * a busy 2-core machine).
     */
    static final long THAW_SLACK_MICROS = 50_000;

    /**
     * The stream messages a node may have admitted before the orchestrator stopped it: per stream,
     * the first message started within {@link #THAW_SLACK_MICROS} after a SIGCONT of its node whose
     * message before it (if any) started before that SIGSTOP. Its gate check can have passed before
     * the stop took hold, which no gate can take back (only a store that refuses a stale epoch can:
     * the player store does); the gate refuses every message after the thaw, so a second one is a
     * violation. Such a message is neither a late message of its stream nor another node's work
     * for the token; it is counted in the report.
     */
    static List<History.Streamed> admittedBeforeAFreeze(History history) {
        Map<String, List<History.Frozen>> frozen = history.frozen.stream()
                .collect(Collectors.groupingBy(History.Frozen::node));
        Map<String, List<History.Streamed>> streams = history.streamed.stream().collect(Collectors.groupingBy(
                m -> m.token() + " " + m.stream() + " " + m.node()));
        List<History.Streamed> admitted = new ArrayList<>();
        streams.values().forEach(messages -> {
            messages.sort(Comparator.comparingLong(History.Streamed::start));
            for (History.Frozen f : frozen.getOrDefault(messages.get(0).node(), List.of())) {
                for (int i = 0; i < messages.size(); i++) {
                    History.Streamed m = messages.get(i);
                    if (m.start() < f.to()) {
                        continue;
                    }
                    boolean previousBeforeTheStop = i == 0 || messages.get(i - 1).start() < f.from();
                    if (m.start() <= f.to() + THAW_SLACK_MICROS && previousBeforeTheStop) {
                        admitted.add(m);
                    }
                    break; // only the first message after the thaw
                }
            }
        });
        return admitted;
    }

    /**
     * How long after a data-loss fault's store came back an owner from before the loss may still act
     * for its players: its next heartbeat finds its record gone (within one heartbeat), and its
     * self-fence then refuses token work and ends its open token streams at the next fence check;
     * twice the heartbeat leaves room for scheduling. Inside that window the gateways, which lost
     * the links too, may already have given a player to another node: strictly one owner across a
     * loss of the link store needs links fenced by an epoch at the owner (the next issue's work).
     */
    static long dataLossGraceMicros(ChaosRun.Settings settings) {
        return 2 * settings.heartbeat().toNanos() / 1_000;
    }

    /**
     * The data-loss fault (REDIS_RESTART_EMPTY, FLUSHALL) whose window, from its injection to
     * {@code graceMicros} after its store came back, holds {@code at}; null if none does, or if
     * {@code graceMicros} < 0.
     */
    static FaultRecord dataLossWindow(long at, java.util.Collection<FaultRecord> faults, long graceMicros) {
        if (graceMicros < 0) {
            return null;
        }
        for (FaultRecord f : faults) {
            if (f.kind().losesData() && at >= f.injected() && at <= f.healed() + graceMicros) {
                return f;
            }
        }
        return null;
    }

    /**
     * Owner overlaps inside data-loss windows: counted in the report, not violations. Any overlap
     * that outlasts its window is a violation of {@link #oneOwner} or {@link #streamFence}.
     */
    static List<Violation> dataLossOverlaps(History history, long graceMicros) {
        List<Violation> overlaps = new ArrayList<>(ownerOverlaps(history, graceMicros, true));
        overlaps.addAll(lateStreamMessages(history, graceMicros, true));
        return overlaps;
    }

    /**
     * A relink moves a player for good: once the new owner has served the relinked player (a call
     * or a stream message starting after the relink was stored), no other node may serve it until
     * the next fault is injected or the player is relinked again. One violation per relink, naming
     * the first stale piece of work and how many followed it.
     */
    static List<Violation> relinksHold(History history) {
        List<Violation> violations = new ArrayList<>();
        for (History.Relinked r : history.relinked) {
            long until = history.faults.stream().mapToLong(FaultRecord::injected).filter(at -> at > r.at()).min()
                    .orElse(Long.MAX_VALUE);
            until = Math.min(until, history.relinked.stream().filter(o -> o.token().equals(r.token()) && o.at() > r.at())
                    .mapToLong(History.Relinked::at).min().orElse(Long.MAX_VALUE));
            List<Work> work = new ArrayList<>();
            history.served.stream().filter(s -> s.token().equals(r.token()))
                    .forEach(s -> work.add(new Work(s.node(), s.start(), s.end())));
            history.streamed.stream().filter(m -> m.token().equals(r.token()))
                    .forEach(m -> work.add(new Work(m.node(), m.start(), m.end())));
            work.sort(Comparator.comparingLong(Work::from));
            Work first = work.stream().filter(w -> w.node().equals(r.node()) && w.from() > r.at()).findFirst().orElse(null);
            if (first == null || first.from() >= until) {
                continue;
            }
            long end = until;
            List<Work> stale = work.stream().filter(w -> !w.node().equals(r.node()) && w.from() > first.from()
                    && w.from() < end).toList();
            if (!stale.isEmpty()) {
                violations.add(new Violation("one owner", r.token() + " relinked to " + r.node() + " at " + r.at()
                        + ", served there at " + first.from() + ", then served by " + stale.get(0).node() + " at "
                        + stale.get(0).from() + " (µs); " + stale.size() + " stale piece(s) of work before the next "
                        + "fault or relink"));
            }
        }
        return violations;
    }

    /**
     * A node black-holed from Redis is nobody's owner once its registration may have expired: from
     * the TTL after the cut (its last confirmed heartbeat came before the cut) until the link is
     * restored, it does no work for any token, call or stream message. One violation per fault.
     */
    static List<Violation> cutOffNodesWorkNot(History history, long ttlMicros) {
        List<Violation> violations = new ArrayList<>();
        for (FaultRecord f : history.faults) {
            if (f.kind() != FaultKind.BLACKHOLE) {
                continue;
            }
            long from = f.injected() + ttlMicros;
            List<Work> work = new ArrayList<>();
            history.served.stream().filter(s -> s.node().equals(f.victim()) && s.start() >= from && s.start() < f.healed())
                    .forEach(s -> work.add(new Work(s.token(), s.start(), s.end())));
            history.streamed.stream().filter(m -> m.node().equals(f.victim()) && m.start() >= from
                    && m.start() < f.healed()).forEach(m -> work.add(new Work(m.token() + " (stream " + m.stream() + ")",
                    m.start(), m.end())));
            work.sort(Comparator.comparingLong(Work::from));
            if (!work.isEmpty()) {
                violations.add(new Violation("one owner", f.victim() + ", cut off from Redis at " + f.injected()
                        + " until " + f.healed() + ", worked for " + work.get(0).node() + " at " + work.get(0).from()
                        + " (µs), over a TTL after the cut; " + work.size() + " piece(s) of work in all"));
            }
        }
        return violations;
    }

    /**
     * The player-state check over the bots' acknowledged answers: {@code violations} (checker
     * "player state"), {@code resetsByStoreLoss} (counters that went back across a store that forgot
     * its writes: counted, not violations), and the figures checked.
     *
     * @param players        players with at least one acknowledged answer
     * @param answersChecked acknowledged answers carrying a counter; each but a player's first is
     *                       compared with the one before it
     * @param jumps          answers more than one above the one before (calls that failed or timed
     *                       out and counted anyway, or a call the gateway's client sent on and that
     *                       counted twice): allowed
     * @param jumpsWithoutFailedCall of those, jumps no failed call of the player can explain: none
     *                       started before the later answer and less than its deadline plus
     *                       {@link Bots#HUNG_AFTER} before the earlier one (a call that timed out at
     *                       the bot may still run on the node after the bot's next call began: seen in
     *                       a warm-up). Left: a call counted twice, or an update lost and then more
     *                       than made up for; allowed, but worth a look
     */
    record PlayerStateCheck(List<Violation> violations, List<Violation> resetsByStoreLoss, int players,
                            long answersChecked, long jumps, long jumpsWithoutFailedCall) {
    }

    /**
     * Every acknowledged update survives: per player, over its OK calls in the order the bot made
     * them (one at a time), the counter each answer carried is greater than the one the answer
     * before carried. A call that failed or timed out may or may not have counted, so a jump is
     * allowed; an answer equal to the one before (an acknowledged update lost) or lower is a
     * violation, one per such pair, naming both answers and the nodes that gave them.
     *
     * <p>Excused, and {@linkplain PlayerStateCheck#resetsByStoreLoss counted}: a pair with a fault
     * between them that made the store forget acknowledged writes ({@link FaultKind#forgetsWrites}):
     * the earlier answer started before that fault's window ended ({@code graceMicros} after its
     * store came back) and the later one ended after the fault was injected. A kill, freeze, drain or
     * relink is no excuse: the logic nodes save write-through, so the state a caller was told is in
     * the store before the answer leaves.
     */
    static PlayerStateCheck playerState(History history, long graceMicros) {
        List<FaultRecord> forgetting = history.faults.stream().filter(f -> f.kind().forgetsWrites()).toList();
        Map<String, List<History.BotCall>> byToken = history.calls.stream()
                .filter(c -> c.ok() && c.counter() != History.BotCall.NO_COUNTER)
                .collect(Collectors.groupingBy(History.BotCall::token, TreeMap::new, Collectors.toList()));
        List<Violation> violations = new ArrayList<>();
        List<Violation> resets = new ArrayList<>();
        long checked = 0;
        long jumps = 0;
        long bare = 0;
        Map<String, List<History.BotCall>> failedCalls = history.calls.stream().filter(c -> !c.ok())
                .collect(Collectors.groupingBy(History.BotCall::token));
        long hungAfter = Bots.HUNG_AFTER.toNanos() / 1_000;
        for (Map.Entry<String, List<History.BotCall>> player : byToken.entrySet()) {
            List<History.BotCall> answers = player.getValue();
            answers.sort(Comparator.comparingLong(History.BotCall::start));
            checked += answers.size();
            for (int i = 1; i < answers.size(); i++) {
                History.BotCall before = answers.get(i - 1);
                History.BotCall after = answers.get(i);
                if (after.counter() > before.counter() + 1) {
                    jumps++;
                    if (failedCalls.getOrDefault(player.getKey(), List.of()).stream().noneMatch(f -> f.start()
                            < after.start() && f.start() + f.deadlineMicros() + hungAfter > before.start())) {
                        bare++;
                    }
                }
                if (after.counter() > before.counter()) {
                    continue;
                }
                FaultRecord forgot = forgetting.stream().filter(f -> before.start() <= f.healed() + graceMicros
                        && after.end() >= f.injected()).findFirst().orElse(null);
                String detail = player.getKey() + ": told " + before.counter() + " at " + before.start() + " by "
                        + before.servedBy() + ", then " + after.counter() + " at " + after.start() + " by "
                        + after.servedBy() + " (µs)" + (forgot == null ? "" : "; the store forgot its writes in fault "
                        + forgot.index() + " " + forgot.kind());
                (forgot == null ? violations : resets).add(new Violation("player state", detail));
            }
        }
        return new PlayerStateCheck(violations, resets, byToken.size(), checked, jumps, bare);
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

    /**
     * The epoch a node has seen never goes down: per node, in the order it reported them, every
     * epoch is at least the highest one before it. One violation per drop.
     */
    static List<Violation> epochsNeverDrop(java.util.Collection<History.EpochSeen> epochs) {
        List<Violation> violations = new ArrayList<>();
        epochs.stream().collect(Collectors.groupingBy(e -> e.service() + "|" + e.node(), TreeMap::new, Collectors.toList()))
                .forEach((key, seen) -> {
                    seen.sort(Comparator.comparingLong(History.EpochSeen::at));
                    History.EpochSeen highest = null;
                    for (History.EpochSeen e : seen) {
                        if (highest != null && e.epoch() < highest.epoch()) {
                            violations.add(new Violation("one leader", e.node() + " (" + e.service() + ") saw epoch "
                                    + highest.epoch() + " at " + highest.at() + ", then the lower epoch " + e.epoch()
                                    + " at " + e.at() + " (µs)"));
                        }
                        if (highest == null || e.epoch() > highest.epoch()) {
                            highest = e;
                        }
                    }
                });
        return violations;
    }

    /**
     * The data-loss fault a message may have been lost with: the first REDIS_RESTART_EMPTY or
     * FLUSHALL that completed after the publish was sent (its write may have come before the wipe),
     * or null when the message was sent after every data loss had completed.
     */
    static FaultRecord lostWith(History.Published message, java.util.Collection<FaultRecord> faults) {
        FaultRecord first = null;
        for (FaultRecord f : faults) {
            if (f.kind().losesData() && message.sentAt() < f.healed() && (first == null || f.healed() < first.healed())) {
                first = f;
            }
        }
        return first;
    }

    /**
     * Messages lost with the store, per channel: acknowledged, never handled on that channel, and
     * {@link #lostWith sent before a data loss completed}. Counted in the report, not violations.
     */
    static Map<String, List<History.Published>> lostWithTheStore(History history) {
        Map<String, Set<String>> seen = handledIds(history);
        Map<String, List<History.Published>> lost = new TreeMap<>();
        for (String channel : ChaosNames.CHANNELS) {
            Set<String> handled = seen.getOrDefault(channel, Set.of());
            lost.put(channel, history.published.stream()
                    .filter(p -> !handled.contains(p.id()) && lostWith(p, history.faults) != null).toList());
        }
        return lost;
    }

    private static Map<String, Set<String>> handledIds(History history) {
        Map<String, Set<String>> seen = new HashMap<>();
        history.handled.forEach(h -> seen.computeIfAbsent(h.channel(), c -> new java.util.HashSet<>()).add(h.id()));
        return seen;
    }

    static List<Violation> noLoss(History history) {
        List<Violation> violations = new ArrayList<>();
        Map<String, Set<String>> seen = handledIds(history);
        for (String channel : ChaosNames.CHANNELS) {
            Set<String> handled = seen.getOrDefault(channel, Set.of());
            List<History.Published> lost = history.published.stream()
                    .filter(p -> !handled.contains(p.id()) && lostWith(p, history.faults) == null).toList();
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
