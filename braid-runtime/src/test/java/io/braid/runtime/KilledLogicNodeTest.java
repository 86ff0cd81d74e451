package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.NodeState;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A logic node that dies without a word (kill -9 of its JVM) while a gateway keeps calling its
 * players: they move to the survivors once its discovery record expires, and no player is ever
 * served by two nodes at overlapping times. Redis only: the in-memory plane cannot outlive a JVM.
 */
class KilledLogicNodeTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    /** Braid's default discovery heartbeat and record TTL, which every node here runs with. */
    static final Duration HEARTBEAT = Duration.ofSeconds(1);
    static final Duration TTL = Duration.ofSeconds(3);
    static final String CHILD = "logic-child";

    /** One served call, in wall-clock millis so the child's records and ours share a clock. */
    record Served(long atMillis, String node, String token) {
    }

    /** Which node served a token, from its first to its last call. */
    record Interval(String node, long from, long to) {
        boolean overlaps(Interval other) {
            return from <= other.to && other.from <= to;
        }
    }

    private final Queue<Served> served = new ConcurrentLinkedQueue<>();
    private final Deque<Braid> nodes = new ArrayDeque<>();
    private Process child;
    private Thread childReader;
    private Path childLog;

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (child != null) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            childReader.join(TimeUnit.SECONDS.toMillis(5));
        }
        while (!nodes.isEmpty()) {
            nodes.pop().close();
        }
        if (childLog != null) {
            Files.deleteIfExists(childLog);
        }
    }

    @Test
    void aKilledOwnersPlayersMoveToSurvivorsWithinTheTtlAndNeverHaveTwoOwnersAtOnce() throws Exception {
        List<String> childLines = startChild(CHILD); // first, so that it most likely leads the logic service
        Await.until(Duration.ofSeconds(20), () -> "the child node is up; its log:\n" + childLogTail(),
                () -> childLines.contains("READY"));
        Braid first = logic("logic-1");
        Braid second = logic("logic-2");
        Braid gateway = node(Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)
                .redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL));
        Await.until(Duration.ofSeconds(5), "the gateway sees three ACTIVE logic nodes",
                () -> gateway.discover().nodes(StickyRoutingContract.LOGIC).stream()
                        .filter(n -> n.state() == NodeState.ACTIVE).count() == 3);

        List<String> tokens = StickyRoutingContract.tokens("player", 30);
        Map<String, String> firstOwners = new LinkedHashMap<>();
        for (String token : tokens) {
            firstOwners.put(token, StickyRoutingContract.call(gateway, token));
        }
        List<String> childTokens = tokens.stream().filter(t -> firstOwners.get(t).equals(CHILD)).toList();
        assertThat(childTokens).as("equal weights: the child owns a third of the players").hasSize(10);
        boolean childLeads = !first.elector().isLeader() && !second.elector().isLeader();

        try (CallingLoop load = new CallingLoop(gateway, tokens)) {
            Await.until(Duration.ofSeconds(10), "five clean rounds of calls", () -> load.cleanRounds.get() >= 5);

            long killedAt = System.currentTimeMillis();
            child.destroyForcibly();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).as("the child is dead").isTrue();
            Await.until(TTL.plusSeconds(5), () -> "every player of the child served by a survivor; served after the kill: "
                    + firstServedAfter(killedAt), () -> firstServedAfter(killedAt).keySet().containsAll(childTokens));
            long relinkMillis = childTokens.stream().mapToLong(t -> firstServedAfter(killedAt).get(t).atMillis())
                    .max().orElseThrow() - killedAt;
            long firstRelinkMillis = childTokens.stream().mapToLong(t -> firstServedAfter(killedAt).get(t).atMillis())
                    .min().orElseThrow() - killedAt;
            int roundsAtRelink = load.rounds.get();
            Await.until(Duration.ofSeconds(5), "five more rounds once all moved", () -> load.rounds.get() >= roundsAtRelink + 5);
            load.close();

            System.out.printf("kill -9 of the owner of %d players (child led logic: %s): first served by a survivor "
                            + "after %d ms, all after %d ms (heartbeat %s, TTL %s); failed calls meanwhile: %s%n",
                    childTokens.size(), childLeads, firstRelinkMillis, relinkMillis, HEARTBEAT, TTL, load.failures);
            assertThat(relinkMillis).as("ms from kill -9 until all its players were served again")
                    .isLessThanOrEqualTo(TTL.plusSeconds(1).toMillis());
        }
        childReader.join(TimeUnit.SECONDS.toMillis(5)); // the dead child's pipe is at its end: every record is in

        Map<String, List<Interval>> intervals = intervalsByToken();
        for (String token : tokens) {
            List<Interval> owners = intervals.get(token);
            for (int i = 0; i < owners.size(); i++) {
                for (int j = i + 1; j < owners.size(); j++) {
                    assertThat(owners.get(i).overlaps(owners.get(j)))
                            .as("%s served by two nodes at once: %s and %s", token, owners.get(i), owners.get(j)).isFalse();
                }
            }
            String now = gateway.linkCache().target(token, StickyRoutingContract.LOGIC).orElseThrow();
            if (childTokens.contains(token)) {
                assertThat(owners).extracting(Interval::node).as("who served %s", token).hasSize(2).contains(CHILD);
                assertThat(now).as("new owner of %s", token).isIn("logic-1", "logic-2");
                assertThat(owners).extracting(Interval::node).contains(now);
            } else {
                assertThat(owners).extracting(Interval::node).as("who served %s", token)
                        .containsExactly(firstOwners.get(token));
                assertThat(now).isEqualTo(firstOwners.get(token));
            }
        }
        assertThat(gateway.linkCache().linkCount("logic-1") + gateway.linkCache().linkCount("logic-2"))
                .isEqualTo(tokens.size());
    }

    /** Calls every token again and again, each round in parallel, until closed. */
    private static final class CallingLoop implements AutoCloseable {
        final AtomicInteger rounds = new AtomicInteger();
        final AtomicInteger cleanRounds = new AtomicInteger();
        final Map<Code, Integer> failures = new ConcurrentHashMap<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        CallingLoop(Braid gateway, List<String> tokens) {
            CallOptions options = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(1));
            thread = Thread.ofPlatform().name("gateway-calls").start(() -> {
                while (!stop.get()) {
                    List<CompletableFuture<StringValue>> round = tokens.stream()
                            .map(t -> gateway.invoke(StickyRoutingContract.LOGIC, StickyRoutingContract.WHERE, t,
                                    StringValue.of(t), StringValue.parser(), options))
                            .toList();
                    boolean clean = true;
                    for (CompletableFuture<StringValue> call : round) {
                        try {
                            call.join();
                        } catch (RuntimeException e) {
                            failures.merge(BraidException.from(e).code(), 1, Integer::sum);
                            clean = false;
                        }
                    }
                    rounds.incrementAndGet();
                    if (clean) {
                        cleanRounds.incrementAndGet();
                    } else {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // pacing while calls fail fast, not a wait
                    }
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    private Braid logic(String id) {
        return node(Braid.builder().service(StickyRoutingContract.LOGIC).nodeId(id).ioThreads(1)
                .redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL)
                .handle(StickyRoutingContract.WHERE, StringValue.parser(), (ctx, request) -> {
                    served.add(new Served(System.currentTimeMillis(), id, ctx.token()));
                    return StringValue.of(id);
                }));
    }

    private Braid node(Braid.Builder settings) {
        Braid node = settings.start();
        nodes.push(node);
        return node;
    }

    /** Starts the child logic node; its served calls join {@link #served}, every line is returned as it comes. */
    private List<String> startChild(String nodeId) throws IOException {
        childLog = Files.createTempFile("braid-logic-child-", ".log");
        child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                LogicNodeProcess.class.getName(), redis.server().uri(), nodeId)
                .redirectError(childLog.toFile())
                .start();
        List<String> lines = new CopyOnWriteArrayList<>();
        childReader = Thread.ofPlatform().daemon().name("child-stdout").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("S ")) {
                        String[] parts = line.split(" ", 4);
                        served.add(new Served(Long.parseLong(parts[1]), parts[2], parts.length > 3 ? parts[3] : ""));
                    } else {
                        lines.add(line);
                    }
                }
            } catch (IOException ignored) {
                // the child died
            }
        });
        return lines;
    }

    private String childLogTail() {
        try {
            List<String> log = Files.readAllLines(childLog);
            return String.join("\n", log.subList(Math.max(0, log.size() - 30), log.size()));
        } catch (IOException e) {
            return "(cannot read " + childLog + ": " + e + ")";
        }
    }

    /** For each token, the first call a node other than the child served after {@code sinceMillis}. */
    private Map<String, Served> firstServedAfter(long sinceMillis) {
        Map<String, Served> first = new HashMap<>();
        for (Served s : served) {
            if (!s.node().equals(CHILD) && s.atMillis() >= sinceMillis) {
                first.merge(s.token(), s, (a, b) -> a.atMillis() <= b.atMillis() ? a : b);
            }
        }
        return first;
    }

    private Map<String, List<Interval>> intervalsByToken() {
        Map<String, Map<String, long[]>> spans = new TreeMap<>();
        for (Served s : served) {
            spans.computeIfAbsent(s.token(), t -> new TreeMap<>()).merge(s.node(), new long[] {s.atMillis(), s.atMillis()},
                    (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
        }
        Map<String, List<Interval>> intervals = new TreeMap<>();
        spans.forEach((token, byNode) -> intervals.put(token, byNode.entrySet().stream()
                .map(e -> new Interval(e.getKey(), e.getValue()[0], e.getValue()[1])).collect(Collectors.toList())));
        return intervals;
    }
}
