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
 */
public record BotsReport(int players, Map<String, PlayerRecord> byPlayer, long calls, Map<String, Long> errors,
                         double p50Millis, double p99Millis, double maxMillis, long chatSent, long chatReceived,
                         long rewards) {

    /** One player's run: who served it, how many calls, whether a node had to begin its state anew. */
    public record PlayerRecord(String player, List<String> nodes, long calls, long errors, boolean loggedIn,
                               boolean recovered) {
        public PlayerRecord {
            nodes = List.copyOf(nodes);
        }
    }

    public BotsReport {
        byPlayer = Map.copyOf(byPlayer);
        errors = Map.copyOf(errors);
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
