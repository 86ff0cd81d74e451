package io.braid.bench.scale;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.NodeState;
import io.braid.runtime.Braid;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Login storms (issue 18's, without the gateway's front end): {@code players} new players make
 * their first call (a 64 B echo to one of three logic nodes) through gateway node A, all at once,
 * {@value #IN_FLIGHT} in flight (each links its token); then A closes, as a restarting gateway, and
 * the same players come back through a new gateway node B (empty near cache, links in Redis). Figures: the time until every player was served,
 * Redis commands per first call ({@code INFO commandstats} delta, scripts' inner commands included),
 * p50/p99 of the first calls, and the calls that failed, UNAVAILABLE counted apart. Every node is a
 * {@link Braid} in this JVM on one Redis.
 */
final class LoginStorm {
    static final String LOGIC = "storm-logic";
    static final String ECHO = "echo";
    static final int LOGIC_NODES = 3;
    static final int IN_FLIGHT = 1_024;

    record Result(String phase, int players, double seconds, double commandsPerLogin, double p50Micros, double p99Micros,
            long failed, long unavailable, String firstFailure) {
    }

    private LoginStorm() {
    }

    /** The storm of new players through gateway A, then the same players' return through gateway B. */
    static List<Result> run(RedisServer redis, int players) throws Exception {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            RedisProbe probe = push(opened, redis.probe());
            for (int i = 1; i <= LOGIC_NODES; i++) {
                push(opened, Braid.builder().service(LOGIC).nodeId("storm-logic-" + i).redis(redis.uri())
                        .handleAsync(ECHO, BytesValue.parser(), (ctx, request) -> CompletableFuture.completedFuture(request))
                        .start());
            }
            BytesValue request = BytesValue.of(ByteString.copyFrom(new byte[64]));
            String[] tokens = new String[players];
            for (int i = 0; i < players; i++) {
                tokens[i] = LinkScale.token(i);
            }
            Result cold;
            try (Braid before = Braid.builder().service("storm-gateway").nodeId("gateway-a").redis(redis.uri())
                    .start()) {
                awaitLogicNodes(before);
                cold = storm("new players, gateway A", before, tokens, request, probe);
            }
            Braid after = push(opened, Braid.builder().service("storm-gateway").nodeId("gateway-b")
                    .redis(redis.uri()).start());
            awaitLogicNodes(after);
            return List.of(cold, storm("the same players after A closed, gateway B", after, tokens, request, probe));
        } finally {
            while (!opened.isEmpty()) {
                opened.pop().close();
            }
        }
    }

    /** Every player's call through {@code gateway}, {@link #IN_FLIGHT} in flight, all at once. */
    private static Result storm(String phase, Braid gateway, String[] tokens, BytesValue request, RedisProbe probe)
            throws InterruptedException {
        int players = tokens.length;
        long[] micros = new long[players];
        AtomicLong failed = new AtomicLong();
        AtomicLong unavailable = new AtomicLong();
        String[] firstFailure = new String[1];
        Semaphore permits = new Semaphore(IN_FLIGHT);
        Map<String, Long> callsBefore = probe.commandCalls();
        long start = System.nanoTime();
        for (int i = 0; i < players; i++) {
            permits.acquire();
            int player = i;
            long sent = System.nanoTime();
            call(gateway, tokens[i], request).whenComplete((answer, failure) -> {
                micros[player] = (System.nanoTime() - sent) / 1_000;
                if (failure != null) {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    if (failed.getAndIncrement() == 0) {
                        firstFailure[0] = cause.toString();
                    }
                    if (cause instanceof BraidException e && e.code() == Code.UNAVAILABLE) {
                        unavailable.incrementAndGet();
                    }
                }
                permits.release();
            });
        }
        permits.acquire(IN_FLIGHT);
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> callsAfter = probe.commandCalls();
        long commands = 0;
        for (Map.Entry<String, Long> command : callsAfter.entrySet()) {
            if (!command.getKey().equals("info")) {
                commands += command.getValue() - callsBefore.getOrDefault(command.getKey(), 0L);
            }
        }
        Arrays.sort(micros);
        return new Result(phase, players, seconds, (double) commands / players, micros[players / 2],
                micros[Math.min(players - 1, (int) Math.ceil(players * 0.99) - 1)], failed.get(), unavailable.get(),
                firstFailure[0]);
    }

    private static CompletableFuture<BytesValue> call(Braid caller, String token, BytesValue request) {
        return caller.invoke(LOGIC, ECHO, token, request, BytesValue.parser());
    }

    private static void awaitLogicNodes(Braid caller) {
        Await.until(Duration.ofSeconds(30), () -> caller.node().id() + " sees " + LOGIC_NODES + " logic nodes",
                () -> caller.discover().nodes(LOGIC).stream().filter(node -> node.state() == NodeState.ACTIVE)
                        .count() == LOGIC_NODES);
    }

    private static <T extends AutoCloseable> T push(Deque<AutoCloseable> opened, T resource) {
        opened.push(resource);
        return resource;
    }
}
