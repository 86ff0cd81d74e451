package io.braid.examples.bots;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What a bots run saw, from the players' side. Immutable.
 *
 * @param players     players simulated
 * @param byPlayer    each player: the logic nodes that answered it, in the order they first did
 * @param calls       calls answered (login, act, chat, logout)
 * @param errors      calls that failed, by braid Code name (or the socket's failure)
 * @param p50Millis   median call latency seen by a player (gateway and logic round trip)
 * @param p99Millis   99th percentile
 * @param maxMillis   slowest call
 * @param chatSent    chat lines the players sent (and the chat service took)
 * @param chatReceived chat lines pushed to the players (a line reaches every player online)
 * @param rewards     rewards pushed to the players by their logic nodes
 * @param sessions    what the players' gateway sessions went through
 * @param pushesById  every push the players received, by its id: how many times it arrived (1, or a duplicate)
 */
public record BotsReport(int players, Map<String, PlayerRecord> byPlayer, long calls, Map<String, Long> errors,
                         double p50Millis, double p99Millis, double maxMillis, long chatSent, long chatReceived,
                         long rewards, Sessions sessions, Map<String, Integer> pushesById) {

    /**
     * The players' sessions, as their clients saw them.
     *
     * @param resumed              sessions resumed after a dropped connection (the missed pushes replayed)
     * @param relogins             sessions that could not be resumed, so the player logged in afresh
     *                             (pushes of the old session it had not received are lost)
     * @param duplicatesSuppressed pushes a client received twice by sequence number and dropped
     * @param gaps                 sequence numbers a client found skipped
     * @param trouble              relogins, gaps, kicks and early ends, in words (the first hundred or so)
     */
    public record Sessions(long resumed, long relogins, long duplicatesSuppressed, long gaps, List<String> trouble) {
        public Sessions {
            trouble = List.copyOf(trouble);
        }
    }

    /**
     * One player's run: who served it, how many calls, whether a node had to begin its state anew,
     * and the answers that broke {@link ClickLedger}'s rule ({@code clicksLost}; the first few in
     * words in {@code clickViolations}).
     */
    public record PlayerRecord(String player, List<String> nodes, long calls, long errors, boolean loggedIn,
                               boolean recovered, long clicksLost, List<String> clickViolations) {
        public PlayerRecord {
            nodes = List.copyOf(nodes);
            clickViolations = List.copyOf(clickViolations);
        }
    }

    public BotsReport {
        byPlayer = Map.copyOf(byPlayer);
        errors = Map.copyOf(errors);
        pushesById = Map.copyOf(pushesById);
    }

    /** Pushes received, each id once. */
    public long pushesReceived() {
        return pushesById.size();
    }

    /** Pushes (by id) a player received more than once. */
    public long duplicatePushes() {
        return pushesById.values().stream().filter(n -> n > 1).count();
    }

    /** Players that logged in, by the logic node that first served them. */
    public Map<String, Integer> playersPerNode() {
        Map<String, Integer> perNode = new TreeMap<>();
        byPlayer.values().stream().filter(p -> !p.nodes().isEmpty())
                .forEach(p -> perNode.merge(p.nodes().get(0), 1, Integer::sum));
        return perNode;
    }

    public long loggedIn() {
        return byPlayer.values().stream().filter(PlayerRecord::loggedIn).count();
    }

    /**
     * Answers, over all players, that did not count on from what the player was last told
     * ({@link ClickLedger}): 0 when every click a player was told about is still counted.
     */
    public long clicksLost() {
        return byPlayer.values().stream().mapToLong(PlayerRecord::clicksLost).sum();
    }

    /** A few of the answers {@link #clicksLost()} counts, in words, each with its player. */
    public List<String> clickViolations(int most) {
        return byPlayer.values().stream().sorted(java.util.Comparator.comparing(PlayerRecord::player))
                .flatMap(p -> p.clickViolations().stream().map(v -> p.player() + ": " + v)).limit(most).toList();
    }

    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Players answered by more than one logic node (or by none although they logged in). */
    public List<PlayerRecord> notOnExactlyOneNode() {
        return byPlayer.values().stream().filter(p -> p.loggedIn() && p.nodes().size() != 1)
                .sorted(java.util.Comparator.comparing(PlayerRecord::player)).toList();
    }

    /** The check: players logged in, and each was served by exactly one logic node. */
    public boolean everyPlayerOnExactlyOneNode() {
        return loggedIn() > 0 && notOnExactlyOneNode().isEmpty();
    }

    /** The summary, one fact a line. */
    public List<String> summaryLines() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format("players: %d simulated, %d logged in", players, loggedIn()));
        lines.add("players per logic node: " + playersPerNode().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
        lines.add(String.format("calls: %d answered, %d failed%s", calls, errorCount(),
                errors.isEmpty() ? "" : " " + new TreeMap<>(errors)));
        lines.add(String.format("latency (player -> gateway -> logic -> player): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                p50Millis, p99Millis, maxMillis));
        lines.add(String.format("chat: %d lines sent, %d deliveries to players", chatSent, chatReceived));
        lines.add(String.format("rewards pushed to players by their logic node: %d", rewards));
        lines.add(String.format("sessions: %d resumed, %d logged in afresh; pushes received %d, received twice %d"
                + " (and %d dropped by the clients as repeats), sequence gaps %d", sessions.resumed(), sessions.relogins(),
                pushesReceived(), duplicatePushes(), sessions.duplicatesSuppressed(), sessions.gaps()));
        List<PlayerRecord> off = notOnExactlyOneNode();
        lines.add(String.format("check: every player served by exactly one logic node: %s%s",
                everyPlayerOnExactlyOneNode() ? "PASS" : "FAIL",
                off.isEmpty() ? "" : " (" + off.size() + " not: " + off.stream().limit(5)
                        .map(p -> p.player() + " " + p.nodes()).collect(Collectors.joining(", ")) + ")"));
        return lines;
    }

    /** Writes one line per player: {@code player<TAB>node,node<TAB>calls<TAB>errors<TAB>recovered}. */
    public void writeTo(Path file) throws IOException {
        List<String> lines = byPlayer.values().stream().sorted(java.util.Comparator.comparing(PlayerRecord::player))
                .map(p -> String.join("\t", p.player(), String.join(",", p.nodes()), Long.toString(p.calls()),
                        Long.toString(p.errors()), Boolean.toString(p.recovered())))
                .toList();
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(temp, lines, StandardCharsets.UTF_8);
        Files.move(temp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads what {@link #writeTo} wrote: each player's nodes, in order. */
    public static Map<String, List<String>> readNodes(Path file) throws IOException {
        Map<String, List<String>> nodes = new TreeMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] fields = line.split("\t", -1);
            nodes.put(fields[0], fields[1].isEmpty() ? List.of() : List.of(fields[1].split(",")));
        }
        return nodes;
    }
}
